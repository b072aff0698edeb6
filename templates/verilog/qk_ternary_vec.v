// qkeras-ts hand-written RTL: ternary activation of N codes (the IR's ternary rule).
//
// |x| >= T gives sign(x), otherwise 0, as 2-bit two's complement codes. T is the threshold as a code on
// x's grid, 1 <= T <= 2^IN_W (the generator clamps it: T <= 1 behaves as 1, since sign(0) = 0).
`default_nettype none
module qk_ternary_vec #(
  parameter integer N         = 1,
  parameter integer IN_W      = 8,
  parameter integer IN_SIGNED = 1,
  parameter [IN_W+1:0] T      = 1
) (
  input  wire [N*IN_W-1:0] x,
  output reg  [N*2-1:0]    y
);
  localparam integer XW = IN_W + 2;
  wire [XW-1:0] tneg = ~T + 1'b1;
  reg [XW-1:0] xs;
  reg fill;
  integer i;
  always @* begin
    for (i = 0; i < N; i = i + 1) begin
      fill = (IN_SIGNED != 0) ? x[i*IN_W + IN_W - 1] : 1'b0;
      xs = {{2{fill}}, x[i*IN_W +: IN_W]};
      if ($signed(xs) >= $signed(T)) y[i*2 +: 2] = 2'b01;
      else if ($signed(xs) <= $signed(tneg)) y[i*2 +: 2] = 2'b11;
      else y[i*2 +: 2] = 2'b00;
    end
  end
endmodule
`default_nettype wire
