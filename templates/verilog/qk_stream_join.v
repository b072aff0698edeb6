// qkeras-ts hand-written RTL: M streams meeting word by word (the handshake of an element-wise add or a
// channel concatenation). A joined word exists when every input presents one; all inputs leave together
// when the consumer takes it. Ready depends on valid here, never valid on ready, as AXI-Stream allows.
`default_nettype none
module qk_stream_join #(
  parameter integer M = 2
) (
  input  wire [M-1:0] in_valid,
  output wire [M-1:0] in_ready,
  output wire         out_valid,
  input  wire         out_ready
);
  assign out_valid = &in_valid;
  assign in_ready = {M{out_valid & out_ready}};
endmodule
`default_nettype wire
