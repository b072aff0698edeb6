// qkeras-ts hand-written RTL: requantize N codes by a rounding shift and saturation (the IR's shift rule).
//
// code = clip(round(x * 2^-SHIFT), LO, HI) for every element, with the tie rule EVEN (1: half to even,
// as tf.round; 0: half away from zero, as QKeras's floor(|x| + 0.5) for auto_po2 scales). SHIFT <= 0 is
// an exact left shift; LO_EN / HI_EN = 0 leave that side open. With NEG_EN (quantized_relu's
// power-of-two negative slope) negative inputs use clip(round(x * 2^-NEG_SHIFT), LO, 0) instead.
// Elements are IN_W bits (two's complement when IN_SIGNED); results OUT_W bits, which always hold them
// (the IR proves the output range). Arithmetic is exact on CW bits.
`default_nettype none
module qk_requant_vec #(
  parameter integer N         = 1,
  parameter integer IN_W      = 16,
  parameter integer IN_SIGNED = 1,
  parameter integer OUT_W     = 8,
  parameter integer SHIFT     = 4,
  parameter integer EVEN      = 1,
  parameter integer LIM_W     = 32,
  parameter integer LO_EN     = 0,
  parameter [LIM_W-1:0] LO    = 0,
  parameter integer HI_EN     = 0,
  parameter [LIM_W-1:0] HI    = 0,
  parameter integer NEG_EN    = 0,
  parameter integer NEG_SHIFT = 0
) (
  input  wire [N*IN_W-1:0]  x,
  output reg  [N*OUT_W-1:0] y
);
  localparam integer SH_MIN = (NEG_EN != 0 && NEG_SHIFT < SHIFT) ? NEG_SHIFT : SHIFT;
  localparam integer SH_MAX = (NEG_EN != 0 && NEG_SHIFT > SHIFT) ? NEG_SHIFT : SHIFT;
  localparam integer W0 = IN_W + 1 + ((SH_MIN < 0) ? -SH_MIN : 0);
  localparam integer W1 = (W0 > SH_MAX + 2) ? W0 : SH_MAX + 2;
  localparam integer W2 = (W1 > LIM_W) ? W1 : LIM_W;
  localparam integer CW = ((W2 > OUT_W) ? W2 : OUT_W) + 1;

  // round(v * 2^-sh) for a CW-bit two's complement v (sh is one of the constant shifts).
  function [CW-1:0] round_shift(input [CW-1:0] v, input integer sh);
    reg [CW-1:0] q;
    reg half;
    reg rest;
    reg up;
    begin
      if (sh <= 0) begin
        round_shift = v << (-sh);
      end else begin
        q = $unsigned($signed(v) >>> sh);
        half = v[sh-1];
        rest = |(v & ~({CW{1'b1}} << (sh - 1)));
        // A tie (half set, rest clear) goes up for an odd quotient (even rule) or a non-negative v (away
        // rule: the floored quotient of a negative tie is already the neighbour farther from zero).
        up = half & (rest | ((EVEN != 0) ? q[0] : ~v[CW-1]));
        round_shift = q + {{(CW-1){1'b0}}, up};
      end
    end
  endfunction

  wire [CW-1:0] lo_c = {{(CW-LIM_W){LO[LIM_W-1]}}, LO};
  wire [CW-1:0] hi_c = {{(CW-LIM_W){HI[LIM_W-1]}}, HI};
  /* verilator lint_off UNUSEDSIGNAL */
  reg [CW-1:0] xs;
  reg [CW-1:0] r;
  /* verilator lint_on UNUSEDSIGNAL */
  reg fill;
  integer i;
  always @* begin
    for (i = 0; i < N; i = i + 1) begin
      fill = (IN_SIGNED != 0) ? x[i*IN_W + IN_W - 1] : 1'b0;
      xs = {{(CW-IN_W){fill}}, x[i*IN_W +: IN_W]};
      if (NEG_EN != 0 && xs[CW-1]) begin
        r = round_shift(xs, NEG_SHIFT);
        if (LO_EN != 0 && $signed(r) < $signed(lo_c)) r = lo_c;
        if ($signed(r) > $signed({CW{1'b0}})) r = {CW{1'b0}};
      end else begin
        r = round_shift(xs, SHIFT);
        if (LO_EN != 0 && $signed(r) < $signed(lo_c)) r = lo_c;
        if (HI_EN != 0 && $signed(r) > $signed(hi_c)) r = hi_c;
      end
      y[i*OUT_W +: OUT_W] = r[OUT_W-1:0];
    end
  end
endmodule
`default_nettype wire
