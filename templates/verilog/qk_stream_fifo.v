// qkeras-ts hand-written RTL: a first-in first-out buffer of DEPTH words on a valid/ready stream.
//
// Where two streams meet (a residual add, a concatenation), the branch that delivers its words earlier
// must hold them until the later branch catches up, or the fork feeding both branches stalls and the
// design deadlocks; the generator sizes DEPTH from both branches' word schedules. Takes a word whenever
// it is not full and presents the oldest one; out_data is stable while out_valid waits for out_ready.
// A word can pass in and out in the same cycle. The memory is read combinationally (LUT RAM).
`default_nettype none
module qk_stream_fifo #(
  parameter integer W     = 8,
  parameter integer DEPTH = 4
) (
  input  wire         clk,
  input  wire         rst,
  input  wire         in_valid,
  output wire         in_ready,
  input  wire [W-1:0] in_data,
  output wire         out_valid,
  input  wire         out_ready,
  output wire [W-1:0] out_data
);
  localparam integer AB = (DEPTH > 1) ? $clog2(DEPTH) : 1;
  localparam integer CB = $clog2(DEPTH + 1);
  localparam integer I_LAST = DEPTH - 1;
  localparam [AB-1:0] A_LAST = I_LAST[AB-1:0];
  localparam [CB-1:0] C_FULL = DEPTH[CB-1:0];

  reg [W-1:0] mem [0:DEPTH-1];
  reg [AB-1:0] wr;
  reg [AB-1:0] rd;
  reg [CB-1:0] count;

  assign in_ready = (count != C_FULL);
  assign out_valid = (count != {CB{1'b0}});
  assign out_data = mem[rd];
  wire push = in_valid && in_ready;
  wire pop = out_valid && out_ready;

  always @(posedge clk) begin
    if (push) mem[wr] <= in_data;
  end

  always @(posedge clk) begin
    if (rst) begin
      wr <= {AB{1'b0}};
      rd <= {AB{1'b0}};
      count <= {CB{1'b0}};
    end else begin
      if (push) wr <= (wr == A_LAST) ? {AB{1'b0}} : wr + 1'b1;
      if (pop) rd <= (rd == A_LAST) ? {AB{1'b0}} : rd + 1'b1;
      if (push && !pop) count <= count + 1'b1;
      else if (pop && !push) count <= count - 1'b1;
    end
  end
endmodule
`default_nettype wire
