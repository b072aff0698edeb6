// qkeras-ts Icarus Verilog testbench: the same protocol as hw-sim/verilator/harness.cpp, in Verilog.
//
// The design under test is the macro QK_DUT (iverilog -DQK_DUT=<top>); its port widths and the run's
// size are parameters (iverilog -Pqk_tb.IN_W=...). Reads in.hex (one input word per line), presents the
// words with random gaps (IN_GAP per mille per cycle, holding each word until it is taken), drops
// out_ready with probability OUT_STALL per mille, and writes out.txt: "i <cycle>" per accepted input,
// "o <cycle> <hex>" per output word, then "cycles <n>".
`timescale 1ns / 1ps
module qk_tb;
  parameter integer IN_W = 8;
  parameter integer OUT_W = 8;
  parameter integer N_IN = 1;
  parameter integer N_OUT = 1;
  parameter integer IN_GAP = 0;
  parameter integer OUT_STALL = 0;
  parameter integer SEED = 1;
  parameter integer MAX_CYCLES = 1000000;

  reg clk = 1'b0;
  reg rst = 1'b1;
  reg in_valid = 1'b0;
  wire in_ready;
  reg [IN_W-1:0] in_data = {IN_W{1'b0}};
  wire out_valid;
  reg out_ready = 1'b0;
  wire [OUT_W-1:0] out_data;

  `QK_DUT dut (
    .clk(clk), .rst(rst),
    .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data),
    .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data)
  );

  reg [IN_W-1:0] words [0:N_IN-1];
  integer fd;
  integer next;
  integer received;
  integer cycle;
  integer seed;
  reg in_fire;
  reg out_fire;

  always #5 clk = ~clk;

  function integer permille(input integer dummy);
    begin
      permille = ($random(seed) & 32'h7fffffff) % 1000;
    end
  endfunction

  initial begin
    seed = SEED;
    next = 0;
    received = 0;
    cycle = 0;
    $readmemh("in.hex", words);
    fd = $fopen("out.txt", "w");
    repeat (4) @(posedge clk);
    #1 rst = 1'b0;
    while (received < N_OUT && cycle < MAX_CYCLES) begin
      if (!in_valid && next < N_IN && permille(0) >= IN_GAP) begin
        in_valid = 1'b1;
        in_data = words[next];
      end
      out_ready = (permille(0) >= OUT_STALL);
      @(negedge clk);
      in_fire = in_valid && in_ready;
      out_fire = out_valid && out_ready;
      if (out_fire) $fwrite(fd, "o %0d %h\n", cycle, out_data);
      if (in_fire) $fwrite(fd, "i %0d\n", cycle);
      @(posedge clk);
      #1;
      cycle = cycle + 1;
      if (in_fire) begin
        in_valid = 1'b0;
        next = next + 1;
      end
      if (out_fire) received = received + 1;
    end
    $fwrite(fd, "cycles %0d\n", cycle);
    $fclose(fd);
    $finish;
  end
endmodule
