// qkeras-ts hand-written RTL: a layer of dot products with constant weights, as shift-add terms.
//
// y_o = BIAS_o + sum over the terms t of output o of (NEG_t ? ~x[IDX_t] : x[IDX_t]) << SH_t   (mod 2^W)
//
// The generator expands every nonzero weight into the nonzero digits of its non-adjacent form (a
// power-of-two, binary or ternary weight is one digit: one shifted wire; a 6-bit weight at most three),
// so multiplying by a constant is a shift-add network and zero weights produce no term at all. A
// negative digit adds the complement ~x (inverted wires) instead of subtracting x: ~x = (2^IN_W - 1) - x
// for unsigned codes (-x - 1 for signed ones), and the generator moves that constant, with every other
// constant, into BIAS. Every term is then a plain narrow addend, so synthesis builds one adder tree per
// output over the terms' natural widths. Terms are listed output by output: output o owns terms START_o
// .. START_(o+1) - 1. x holds NI elements of IN_W bits; y NO results of W bits, W holding every exact
// result, so computing modulo 2^W is exact.
`default_nettype none
module qk_const_matvec #(
  parameter integer NI        = 1,
  parameter integer IN_W      = 8,
  parameter integer IN_SIGNED = 0,
  parameter integer NO        = 1,
  parameter integer W         = 16,
  parameter integer T         = 1,
  parameter integer IB        = 1,
  parameter integer TB        = 1,
  parameter [T*IB-1:0] IDX    = 0,
  parameter [T*8-1:0] SH      = 0,
  parameter [T-1:0] NEG       = 0,
  parameter [(NO+1)*TB-1:0] START = 0,
  parameter [NO*W-1:0] BIAS   = 0
) (
  /* verilator lint_off UNUSEDSIGNAL */
  input  wire [NI*IN_W-1:0] x,
  /* verilator lint_on UNUSEDSIGNAL */
  output reg  [NO*W-1:0]    y
);
  localparam integer EW = (IN_W > W) ? IN_W : W;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [EW-1:0] xw;
  /* verilator lint_on UNUSEDSIGNAL */
  reg [IN_W-1:0] xe;
  reg [W-1:0] sum;
  integer o;
  integer t;
  always @* begin
    for (o = 0; o < NO; o = o + 1) begin
      sum = BIAS[o*W +: W];
      for (t = {{(32-TB){1'b0}}, START[o*TB +: TB]}; t < {{(32-TB){1'b0}}, START[(o+1)*TB +: TB]}; t = t + 1) begin
        // Indices are written out (not kept in a variable) so that synthesis sees constant selects.
        xe = x[{{(32-IB){1'b0}}, IDX[t*IB +: IB]}*IN_W +: IN_W] ^ {IN_W{NEG[t]}};
        xw = {{(EW-IN_W){1'b0}}, xe};
        if (IN_SIGNED != 0 && xe[IN_W-1]) xw = xw | ({EW{1'b1}} << IN_W);
        sum = sum + (xw[W-1:0] << SH[t*8 +: 8]);
      end
      y[o*W +: W] = sum;
    end
  end
endmodule
`default_nettype wire
