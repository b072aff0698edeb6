// qkeras-ts hand-written RTL: max pooling of one window word (from qk_stream_window), per channel over
// the cells inside the image (mask 1; every window has at least one).
`default_nettype none
module qk_window_max #(
  parameter integer CELLS  = 4,
  parameter integer C      = 1,
  parameter integer EW     = 8,
  parameter integer SIGNED = 1
) (
  input  wire [CELLS*C*EW-1:0] x,
  input  wire [CELLS-1:0]      mask,
  output reg  [C*EW-1:0]       y
);
  reg [EW-1:0] m;
  reg [EW-1:0] v;
  reg any;
  integer c;
  integer k;
  always @* begin
    for (c = 0; c < C; c = c + 1) begin
      m = {EW{1'b0}};
      any = 1'b0;
      for (k = 0; k < CELLS; k = k + 1) begin
        v = x[(k*C+c)*EW +: EW];
        if (mask[k] && (!any || ((SIGNED != 0) ? ($signed(v) > $signed(m)) : (v > m)))) begin
          m = v;
          any = 1'b1;
        end
      end
      y[c*EW +: EW] = m;
    end
  end
endmodule
`default_nettype wire
