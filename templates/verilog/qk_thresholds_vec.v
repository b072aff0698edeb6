// qkeras-ts hand-written RTL: monotone step activation of N codes (the IR's thresholds rule).
//
// k = the number of thresholds T_j with x >= T_j (ascending, so k is also the step index), y = V[k].
// Thresholds are codes on x's grid clamped to [min(x), max(x) + 1] by the generator, IN_W + 2 bits two's
// complement each (NT of them); V holds NT + 1 output codes of OUT_W bits. Used for quantized_po2,
// quantized_tanh, quantized_sigmoid and the other quantizers whose breakpoints the IR found by evaluating
// the quantizer.
`default_nettype none
module qk_thresholds_vec #(
  parameter integer N              = 1,
  parameter integer IN_W           = 8,
  parameter integer IN_SIGNED      = 1,
  parameter integer NT             = 1,
  parameter [NT*(IN_W+2)-1:0] T    = 0,
  parameter integer OUT_W          = 4,
  parameter [(NT+1)*OUT_W-1:0] V   = 0
) (
  input  wire [N*IN_W-1:0]  x,
  output reg  [N*OUT_W-1:0] y
);
  localparam integer TW = IN_W + 2;
  reg [TW-1:0] xs;
  reg fill;
  integer i;
  integer j;
  integer k;
  always @* begin
    for (i = 0; i < N; i = i + 1) begin
      fill = (IN_SIGNED != 0) ? x[i*IN_W + IN_W - 1] : 1'b0;
      xs = {{2{fill}}, x[i*IN_W +: IN_W]};
      k = 0;
      for (j = 0; j < NT; j = j + 1) begin
        if ($signed(xs) >= $signed(T[j*TW +: TW])) k = k + 1;
      end
      y[i*OUT_W +: OUT_W] = V[k*OUT_W +: OUT_W];
    end
  end
endmodule
`default_nettype wire
