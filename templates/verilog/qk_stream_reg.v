// qkeras-ts hand-written RTL: a register stage on a valid/ready stream (AXI-Stream handshake).
//
// Takes a word whenever it is empty or its word leaves in the same cycle, so a chain of stages moves one
// word per clock; out_data is stable while out_valid waits for out_ready.
`default_nettype none
module qk_stream_reg #(
  parameter integer W = 8
) (
  input  wire         clk,
  input  wire         rst,
  input  wire         in_valid,
  output wire         in_ready,
  input  wire [W-1:0] in_data,
  output reg          out_valid,
  input  wire         out_ready,
  output reg  [W-1:0] out_data
);
  assign in_ready = !out_valid || out_ready;
  always @(posedge clk) begin
    if (rst) begin
      out_valid <= 1'b0;
    end else if (in_ready) begin
      out_valid <= in_valid;
    end
  end
  always @(posedge clk) begin
    if (in_ready && in_valid) out_data <= in_data;
  end
endmodule
`default_nettype wire
