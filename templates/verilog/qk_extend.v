// qkeras-ts hand-written RTL: resize an integer code.
//
// Sign- or zero-extends x to OUT_W bits, or keeps its low OUT_W bits. Truncation is used on purpose: the
// datapath computes modulo 2^W with W sized to hold every exact result, so dropped high bits never carry
// information the result needs.
`default_nettype none
module qk_extend #(
  parameter integer IN_W      = 8,
  parameter integer IN_SIGNED = 1,
  parameter integer OUT_W     = 16
) (
  /* verilator lint_off UNUSEDSIGNAL */
  input  wire [IN_W-1:0]  x,
  /* verilator lint_on UNUSEDSIGNAL */
  output wire [OUT_W-1:0] y
);
  generate
    if (OUT_W > IN_W) begin : g_ext
      wire fill = (IN_SIGNED != 0) ? x[IN_W-1] : 1'b0;
      assign y = {{(OUT_W-IN_W){fill}}, x};
    end else begin : g_cut
      assign y = x[OUT_W-1:0];
    end
  endgenerate
endmodule
`default_nettype wire
