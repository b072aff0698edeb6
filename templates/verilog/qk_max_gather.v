// qkeras-ts hand-written RTL: a layer of maxima over gathered elements (max pooling, unrolled).
//
// y_o = max over the elements x[IDX_t], t = START_o .. START_(o+1) - 1 (a pooling window's valid cells;
// every window has at least one).
`default_nettype none
module qk_max_gather #(
  parameter integer NI     = 4,
  parameter integer NO     = 1,
  parameter integer W      = 8,
  parameter integer SIGNED = 1,
  parameter integer T      = 4,
  parameter integer IB     = 2,
  parameter integer TB     = 3,
  parameter [T*IB-1:0] IDX = 0,
  parameter [(NO+1)*TB-1:0] START = 0
) (
  /* verilator lint_off UNUSEDSIGNAL */
  input  wire [NI*W-1:0] x,
  /* verilator lint_on UNUSEDSIGNAL */
  output reg  [NO*W-1:0] y
);
  reg [W-1:0] m;
  reg [W-1:0] v;
  integer o;
  integer t;
  always @* begin
    for (o = 0; o < NO; o = o + 1) begin
      // Indices are written out (not kept in a variable) so that synthesis sees constant selects.
      m = x[{{(32-IB){1'b0}}, IDX[START[o*TB +: TB]*IB +: IB]}*W +: W];
      for (t = {{(32-TB){1'b0}}, START[o*TB +: TB]} + 1; t < {{(32-TB){1'b0}}, START[(o+1)*TB +: TB]}; t = t + 1) begin
        v = x[{{(32-IB){1'b0}}, IDX[t*IB +: IB]}*W +: W];
        if ((SIGNED != 0) ? ($signed(v) > $signed(m)) : (v > m)) m = v;
      end
      y[o*W +: W] = m;
    end
  end
endmodule
`default_nettype wire
