// qkeras-ts hand-written RTL: one stream to M consumers. Each consumer takes the word once, in its own
// time; the word leaves the source when the last consumer has it. Valid never depends on ready
// combinationally through the fork's own state, as AXI-Stream asks.
`default_nettype none
module qk_stream_fork #(
  parameter integer M = 2,
  parameter integer W = 8
) (
  input  wire           clk,
  input  wire           rst,
  input  wire           in_valid,
  output wire           in_ready,
  input  wire [W-1:0]   in_data,
  output wire [M-1:0]   out_valid,
  input  wire [M-1:0]   out_ready,
  output wire [M*W-1:0] out_data
);
  reg [M-1:0] done;
  wire [M-1:0] taken = done | (out_valid & out_ready);
  assign in_ready = &taken;
  assign out_valid = {M{in_valid}} & ~done;
  assign out_data = {M{in_data}};
  always @(posedge clk) begin
    if (rst || (in_valid && in_ready)) done <= {M{1'b0}};
    else done <= taken;
  end
endmodule
`default_nettype wire
