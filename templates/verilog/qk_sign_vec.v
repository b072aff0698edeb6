// qkeras-ts hand-written RTL: binary activation of N codes (the IR's sign rule).
//
// x >= 0 gives +1, otherwise -1 (ZERO_ONE = 0: 2-bit two's complement codes) or 0 (ZERO_ONE = 1: 1-bit
// codes). Zero counts as positive, as in QKeras's binary quantizer.
`default_nettype none
module qk_sign_vec #(
  parameter integer N         = 1,
  parameter integer IN_W      = 8,
  parameter integer IN_SIGNED = 1,
  parameter integer ZERO_ONE  = 0,
  parameter integer OUT_W     = (ZERO_ONE != 0) ? 1 : 2
) (
  /* verilator lint_off UNUSEDSIGNAL */
  input  wire [N*IN_W-1:0]  x,
  /* verilator lint_on UNUSEDSIGNAL */
  output reg  [N*OUT_W-1:0] y
);
  reg nonneg;
  integer i;
  always @* begin
    for (i = 0; i < N; i = i + 1) begin
      nonneg = (IN_SIGNED != 0) ? ~x[i*IN_W + IN_W - 1] : 1'b1;
      if (ZERO_ONE != 0) y[i*OUT_W +: OUT_W] = {{(OUT_W-1){1'b0}}, nonneg};
      else y[i*OUT_W +: OUT_W] = {{(OUT_W-1){~nonneg}}, 1'b1};
    end
  end
endmodule
`default_nettype wire
