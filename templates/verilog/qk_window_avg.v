// qkeras-ts hand-written RTL: average pooling of one window word (from qk_stream_window). Per channel
// the sum of the cells inside the image (cells outside hold zero) times FACTORS[n], n the number of
// cells inside: the exact average on the accumulator grid, modulo 2^ACC_W. FACTORS holds CELLS + 1
// constants of FW bits (entry n for windows of n valid cells; unused counts are zero).
`default_nettype none
module qk_window_avg #(
  parameter integer CELLS     = 4,
  parameter integer C         = 1,
  parameter integer EW        = 8,
  parameter integer SIGNED    = 1,
  parameter integer ACC_W     = 16,
  parameter integer FW        = 8,
  parameter [(CELLS+1)*FW-1:0] FACTORS = 0
) (
  input  wire [CELLS*C*EW-1:0] x,
  input  wire [CELLS-1:0]      mask,
  output reg  [C*ACC_W-1:0]    y
);
  localparam integer XW = (EW > ACC_W) ? EW : ACC_W;
  localparam integer FX = (FW > ACC_W) ? FW : ACC_W;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [XW-1:0] xe;
  reg [FX-1:0] fe;
  /* verilator lint_on UNUSEDSIGNAL */
  reg [ACC_W-1:0] sum;
  reg fill;
  integer count;
  integer c;
  integer k;
  always @* begin
    count = 0;
    for (k = 0; k < CELLS; k = k + 1) if (mask[k]) count = count + 1;
    fe = {{(FX-FW){FACTORS[count*FW + FW - 1]}}, FACTORS[count*FW +: FW]};
    for (c = 0; c < C; c = c + 1) begin
      sum = {ACC_W{1'b0}};
      for (k = 0; k < CELLS; k = k + 1) begin
        fill = (SIGNED != 0) ? x[(k*C+c)*EW + EW - 1] : 1'b0;
        xe = {{(XW-EW){fill}}, x[(k*C+c)*EW +: EW]};
        sum = sum + xe[ACC_W-1:0];
      end
      y[c*ACC_W +: ACC_W] = sum * fe[ACC_W-1:0];
    end
  end
endmodule
`default_nettype wire
