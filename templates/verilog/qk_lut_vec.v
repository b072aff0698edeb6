// qkeras-ts hand-written RTL: table activation of N codes (the IR's table rule) as a ROM.
//
// y = TABLE[x - XLO]: one OUT_W-bit output code per input code from XLO upwards (NE entries covering
// every code x's type can hold; the generator fills them by evaluating the IR rule).
`default_nettype none
module qk_lut_vec #(
  parameter integer N             = 1,
  parameter integer IN_W          = 4,
  parameter integer IN_SIGNED     = 1,
  parameter [IN_W:0] XLO          = 0,
  parameter integer NE            = 16,
  parameter integer OUT_W         = 4,
  parameter [NE*OUT_W-1:0] TABLE  = 0
) (
  input  wire [N*IN_W-1:0]  x,
  output reg  [N*OUT_W-1:0] y
);
  localparam integer XW = IN_W + 1;
  reg [XW-1:0] idx;
  reg fill;
  integer i;
  always @* begin
    for (i = 0; i < N; i = i + 1) begin
      fill = (IN_SIGNED != 0) ? x[i*IN_W + IN_W - 1] : 1'b0;
      idx = {fill, x[i*IN_W +: IN_W]} - XLO;
      y[i*OUT_W +: OUT_W] = TABLE[idx*OUT_W +: OUT_W];
    end
  end
endmodule
`default_nettype wire
