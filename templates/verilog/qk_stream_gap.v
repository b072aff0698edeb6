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

  wire [C*ACC_W-1:0] sum;
  genvar c;
  generate
    for (c = 0; c < C; c = c + 1) begin : g_ch
      wire [ACC_W-1:0] xe;
      qk_extend #(.IN_W(IN_W), .IN_SIGNED(IN_SIGNED), .OUT_W(ACC_W)) u_x (.x(in_data[c*IN_W +: IN_W]), .y(xe));
      wire [ACC_W-1:0] base = (k == {KB{1'b0}}) ? {ACC_W{1'b0}} : acc[c*ACC_W +: ACC_W];
      assign sum[c*ACC_W +: ACC_W] = base + xe * MULT;
    end
  endgenerate

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
