// qkeras-ts hand-written RTL: streamed global average pooling. Sums each of the C channels over K words
// (all pixels of an image) and multiplies by the constant MULT (the divisor and multiplier folded onto
// the accumulator grid), modulo 2^ACC_W. The result waits in the output register for the consumer.
`default_nettype none
module qk_stream_gap #(
  parameter integer K         = 4,
  parameter integer C         = 1,
  parameter integer IN_W      = 8,
  parameter integer IN_SIGNED = 1,
  parameter integer ACC_W     = 16,
  parameter [ACC_W-1:0] MULT  = 1
) (
  input  wire               clk,
  input  wire               rst,
  input  wire               in_valid,
  output wire               in_ready,
  input  wire [C*IN_W-1:0]  in_data,
  output reg                out_valid,
  input  wire               out_ready,
  output reg  [C*ACC_W-1:0] out_data
);
  localparam integer KB = (K > 1) ? $clog2(K) : 1;
  localparam integer I_KL = K - 1;
  localparam [KB-1:0] K_LAST = I_KL[KB-1:0];
  reg [KB-1:0] k;
  reg [C*ACC_W-1:0] acc;
  wire last = (k == K_LAST);
  wire out_free = !out_valid || out_ready;
  assign in_ready = !last || out_free;
  wire fire = in_valid && in_ready;

  // Channels in a procedural loop: Verilator refuses generate loops longer than 16 x its --unroll-count.
  reg [C*ACC_W-1:0] sum;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [ACC_W+IN_W-1:0] wide;
  /* verilator lint_on UNUSEDSIGNAL */
  reg fill;
  wire first = (k == {KB{1'b0}});
  integer c;
  always @* begin
    for (c = 0; c < C; c = c + 1) begin
      fill = (IN_SIGNED != 0) ? in_data[c*IN_W + IN_W - 1] : 1'b0;
      wide = {{ACC_W{fill}}, in_data[c*IN_W +: IN_W]};
      sum[c*ACC_W +: ACC_W] = (first ? {ACC_W{1'b0}} : acc[c*ACC_W +: ACC_W]) + wide[ACC_W-1:0] * MULT;
    end
  end

  always @(posedge clk) begin
    if (rst) begin
      k <= {KB{1'b0}};
      out_valid <= 1'b0;
    end else begin
      if (fire) k <= last ? {KB{1'b0}} : k + 1'b1;
      if (fire && last) out_valid <= 1'b1;
      else if (out_ready) out_valid <= 1'b0;
    end
  end
  always @(posedge clk) begin
    if (fire) begin
      if (last) out_data <= sum;
      else acc <= sum;
    end
  end
endmodule
`default_nettype wire
