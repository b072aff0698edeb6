// qkeras-ts hand-written RTL: a layer of XNOR-popcount dot products (binary activations, binary weights).
//
// With activations a_i = 2 b_i - 1 (bit b_i) and an output's weights w_i = m * (2 WBITS[i] - 1) on the
// inputs in its MASK, the dot product is m * (2 * popcount(MASK & xnor(b, WBITS)) - |MASK|). The
// generator folds -m*|MASK| and the bias into BIAS_o and the factor 2m into the shift SH_o, so
// y_o = BIAS_o + (popcount_o << SH_o) (mod 2^W).
`default_nettype none
module qk_xnor_matvec #(
  parameter integer NI          = 8,
  parameter integer NO          = 1,
  parameter integer W           = 16,
  parameter [NO*NI-1:0] WBITS   = 0,
  parameter [NO*NI-1:0] MASK    = 0,
  parameter [NO*8-1:0] SH       = 0,
  parameter [NO*W-1:0] BIAS     = 0
) (
  input  wire [NI-1:0]   x,
  output reg  [NO*W-1:0] y
);
  reg [NI-1:0] agree;
  reg [W-1:0] count;
  integer o;
  integer i;
  always @* begin
    for (o = 0; o < NO; o = o + 1) begin
      agree = MASK[o*NI +: NI] & ~(x ^ WBITS[o*NI +: NI]);
      count = {W{1'b0}};
      for (i = 0; i < NI; i = i + 1) count = count + {{(W-1){1'b0}}, agree[i]};
      y[o*W +: W] = BIAS[o*W +: W] + (count << SH[o*8 +: 8]);
    end
  end
endmodule
`default_nettype wire
