// qkeras-ts hand-written RTL: streamed multiply-accumulate with a weight ROM and a reuse factor.
//
// Each output word holds F accumulators y_f = BIAS_f + sum over K input words and their N elements of
// x * w, each channel's sum shifted left by SHIFTS_f (its exponent on the accumulator grid), modulo
// 2^ACC_W (the accumulator type holds every exact result). An input word is processed in R cycles, S =
// ceil(N/R) elements per cycle against one ROM word of S x F weights (WW-bit codes, element s of
// channel f at bits (s*F + f)*WW): S*F multipliers serve N*F products. The ROM (outside, combinational)
// is read at rom_addr = k*R + t. A word is consumed in its last cycle; the result goes to the output
// register in the last cycle of the last word, waiting there if the consumer is not ready.
`default_nettype none
module qk_stream_mac #(
  parameter integer N         = 4,
  parameter integer IN_W      = 8,
  parameter integer IN_SIGNED = 1,
  parameter integer F         = 2,
  parameter integer K         = 1,
  parameter integer R         = 1,
  parameter integer S         = 4,
  parameter integer WW        = 4,
  parameter integer ACC_W     = 16,
  parameter [F*8-1:0] SHIFTS  = 0,
  parameter [F*ACC_W-1:0] BIAS = 0,
  parameter integer AW        = 1
) (
  input  wire                 clk,
  input  wire                 rst,
  input  wire                 in_valid,
  output wire                 in_ready,
  input  wire [N*IN_W-1:0]    in_data,
  output wire [AW-1:0]        rom_addr,
  input  wire [S*F*WW-1:0]    rom_data,
  output reg                  out_valid,
  input  wire                 out_ready,
  output reg  [F*ACC_W-1:0]   out_data
);
  localparam integer TW = (R > 1) ? $clog2(R) : 1;
  localparam integer KB = (K > 1) ? $clog2(K) : 1;
  localparam integer PW = IN_W + 1 + WW;
  localparam integer I_RL = R - 1;
  localparam integer I_KL = K - 1;
  localparam [TW-1:0] T_LAST = I_RL[TW-1:0];
  localparam [KB-1:0] K_LAST = I_KL[KB-1:0];

  reg [TW-1:0] t;
  reg [KB-1:0] k;
  reg [AW-1:0] addr;
  reg [F*ACC_W-1:0] acc;

  wire last_t = (t == T_LAST);
  wire final_cycle = last_t && (k == K_LAST);
  wire out_free = !out_valid || out_ready;
  wire go = in_valid && (!final_cycle || out_free);
  wire first = (addr == {AW{1'b0}});
  assign in_ready = go && last_t;
  assign rom_addr = addr;

  // The S elements of this cycle (the input word padded with zeros to R*S elements).
  wire [R*S*IN_W-1:0] xpad;
  generate
    if (R * S > N) begin : g_pad
      assign xpad = {{(R*S-N)*IN_W{1'b0}}, in_data};
    end else begin : g_nopad
      assign xpad = in_data;
    end
  endgenerate
  wire [S*IN_W-1:0] xs = xpad[t*S*IN_W +: S*IN_W];

  localparam integer EW = (PW > ACC_W) ? PW : ACC_W;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [PW-1:0] xe;
  reg [PW-1:0] we;
  reg [EW-1:0] pe;
  /* verilator lint_on UNUSEDSIGNAL */
  reg [PW-1:0] p;
  reg [ACC_W-1:0] part;
  reg [ACC_W-1:0] base;
  reg [F*ACC_W-1:0] sum;
  reg xf;
  reg wf;
  integer f;
  integer s;
  always @* begin
    for (f = 0; f < F; f = f + 1) begin
      part = {ACC_W{1'b0}};
      for (s = 0; s < S; s = s + 1) begin
        xf = (IN_SIGNED != 0) ? xs[s*IN_W + IN_W - 1] : 1'b0;
        wf = rom_data[(s*F+f)*WW + WW - 1];
        xe = {{(PW-IN_W){xf}}, xs[s*IN_W +: IN_W]};
        we = {{(PW-WW){wf}}, rom_data[(s*F+f)*WW +: WW]};
        p = xe * we;  // exact: |x * w| < 2^(PW-1)
        pe = {{(EW-PW){p[PW-1]}}, p};
        part = part + pe[ACC_W-1:0];
      end
      base = first ? BIAS[f*ACC_W +: ACC_W] : acc[f*ACC_W +: ACC_W];
      sum[f*ACC_W +: ACC_W] = base + (({24'd0, SHIFTS[f*8 +: 8]} < ACC_W) ? (part << SHIFTS[f*8 +: 8]) : {ACC_W{1'b0}});
    end
  end

  always @(posedge clk) begin
    if (rst) begin
      t <= {TW{1'b0}};
      k <= {KB{1'b0}};
      addr <= {AW{1'b0}};
      out_valid <= 1'b0;
    end else begin
      if (go) begin
        t <= last_t ? {TW{1'b0}} : t + 1'b1;
        if (last_t) k <= final_cycle ? {KB{1'b0}} : k + 1'b1;
        addr <= final_cycle ? {AW{1'b0}} : addr + 1'b1;
      end
      if (go && final_cycle) out_valid <= 1'b1;
      else if (out_ready) out_valid <= 1'b0;
    end
  end

  always @(posedge clk) begin
    if (go) begin
      if (final_cycle) out_data <= sum;
      else acc <= sum;
    end
  end
endmodule
`default_nettype wire
