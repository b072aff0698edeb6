// qkeras-ts hand-written RTL: resize N codes at once (sign- or zero-extend, or keep the low bits: the
// datapath computes modulo 2^W with W sized for every exact result), as qk_extend does for one code. A
// procedural loop rather than a generate loop: Verilator refuses generate loops longer than 16 x its
// --unroll-count.
`default_nettype none
module qk_extend_vec #(
  parameter integer N         = 1,
  parameter integer IN_W      = 8,
  parameter integer IN_SIGNED = 1,
  parameter integer OUT_W     = 16
) (
  input  wire [N*IN_W-1:0]  x,
  output reg  [N*OUT_W-1:0] y
);
  /* verilator lint_off UNUSEDSIGNAL */
  // The code above OUT_W fill bits; only its low OUT_W bits are kept (extended, or truncated).
  reg [OUT_W+IN_W-1:0] wide;
  /* verilator lint_on UNUSEDSIGNAL */
  reg fill;
  integer i;
  always @* begin
    for (i = 0; i < N; i = i + 1) begin
      fill = (IN_SIGNED != 0) ? x[i*IN_W + IN_W - 1] : 1'b0;
      wide = {{OUT_W{fill}}, x[i*IN_W +: IN_W]};
      y[i*OUT_W +: OUT_W] = wide[OUT_W-1:0];
    end
  end
endmodule
`default_nettype wire
