// qkeras-ts hand-written RTL: M streams onto one. The lowest-numbered valid input goes first; its word
// leaves tagged with the input number in the top TW bits, so a consumer can tell the streams apart.
// Streams keep their own word order.
`default_nettype none
module qk_stream_merge #(
  parameter integer M  = 2,
  parameter integer W  = 8,
  parameter integer TW = 1
) (
  input  wire [M-1:0]   in_valid,
  output wire [M-1:0]   in_ready,
  input  wire [M*W-1:0] in_data,
  output wire           out_valid,
  input  wire           out_ready,
  output wire [TW+W-1:0] out_data
);
  // sel[i]: input i is valid and no lower-numbered input is.
  wire [M-1:0] sel;
  wire [M:0] seen /* verilator split_var */;
  assign seen[0] = 1'b0;
  genvar i;
  generate
    for (i = 0; i < M; i = i + 1) begin : g_pick
      assign sel[i] = in_valid[i] & ~seen[i];
      assign seen[i+1] = seen[i] | in_valid[i];
    end
  endgenerate
  assign out_valid = seen[M];
  assign in_ready = sel & {M{out_ready}};
  // One-hot select of data and tag.
  wire [(M+1)*(TW+W)-1:0] acc /* verilator split_var */;
  assign acc[0 +: TW+W] = {(TW+W){1'b0}};
  generate
    for (i = 0; i < M; i = i + 1) begin : g_mux
      localparam integer I = i;
      wire [TW+W-1:0] word = {I[TW-1:0], in_data[i*W +: W]};
      assign acc[(i+1)*(TW+W) +: TW+W] = acc[i*(TW+W) +: TW+W] | (sel[i] ? word : {(TW+W){1'b0}});
    end
  endgenerate
  assign out_data = acc[M*(TW+W) +: TW+W];
endmodule
`default_nettype wire
