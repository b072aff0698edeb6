// qkeras-ts hand-written RTL: resize N codes at once (sign- or zero-extend, or keep the low bits: the
// datapath computes modulo 2^W with W sized for every exact result).
`default_nettype none
module qk_extend_vec #(
  parameter integer N         = 1,
  parameter integer IN_W      = 8,
  parameter integer IN_SIGNED = 1,
  parameter integer OUT_W     = 16
) (
  input  wire [N*IN_W-1:0]  x,
  output wire [N*OUT_W-1:0] y
);
  genvar i;
  generate
    for (i = 0; i < N; i = i + 1) begin : g_el
      qk_extend #(.IN_W(IN_W), .IN_SIGNED(IN_SIGNED), .OUT_W(OUT_W)) u_e (.x(x[i*IN_W +: IN_W]), .y(y[i*OUT_W +: OUT_W]));
    end
  endgenerate
endmodule
`default_nettype wire
