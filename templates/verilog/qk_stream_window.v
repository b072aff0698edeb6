// qkeras-ts hand-written RTL: line buffer and window generator for streamed convolution and pooling.
//
// Pixels of an H x W image (C channels of EW bits per word) arrive in raster order. For each output
// position (raster order, OH x OW) the module presents the KH x KW window as one word: cell
// k = ki*KW + kj holds the C channels of pixel (oh*SH - PT + ki*DH, ow*SW - PL + kj*DW), zero outside the
// image, and mask[k] says whether the cell lies inside the image (TensorFlow's valid/same/causal padding is PT/PL).
// The buffer keeps NR >= span + 1 rows (a power of two, so the row slot is the row's low bits); a pixel
// is accepted only when the row it overwrites is no longer needed, and a window is offered once its
// bottom-right pixel has arrived. A new image starts when every pixel and window of the current one has
// passed. Reads are combinational from the buffer; the rows they read are never written while a window
// waits, so out_data is stable until out_ready.
`default_nettype none
module qk_stream_window #(
  parameter integer H  = 4,
  parameter integer W  = 4,
  parameter integer C  = 1,
  parameter integer EW = 8,
  parameter integer KH = 3,
  parameter integer KW = 3,
  parameter integer SH = 1,
  parameter integer SW = 1,
  parameter integer DH = 1,
  parameter integer DW = 1,
  parameter integer PT = 0,
  parameter integer PL = 0,
  parameter integer OH = 2,
  parameter integer OW = 2
) (
  input  wire                   clk,
  input  wire                   rst,
  input  wire                   in_valid,
  output wire                   in_ready,
  input  wire [C*EW-1:0]        in_data,
  output wire                   out_valid,
  input  wire                   out_ready,
  output wire [KH*KW*C*EW-1:0]  out_data,
  output wire [KH*KW-1:0]       out_mask
);
  localparam integer SPAN_H = (KH - 1) * DH + 1;
  localparam integer LNR = $clog2(SPAN_H + 1);
  localparam integer NR = 1 << LNR;
  localparam integer CB = (W > 1) ? $clog2(W) : 1;
  // Signed position width: holds every row/column index, padding offsets and window extents.
  localparam integer PW = $clog2(H + W + OH * SH + OW * SW + PT + PL + KH * DH + KW * DW + NR + 2) + 2;
  localparam integer CW = C * EW;

  // Sized constants (two's complement, PW bits) so that every comparison is a signed one of one width.
  localparam integer I_HL = H - 1;
  localparam integer I_WL = W - 1;
  localparam integer I_OHL = OH - 1;
  localparam integer I_OWL = OW - 1;
  localparam integer I_KH = (KH - 1) * DH;
  localparam integer I_KW = (KW - 1) * DW;
  localparam integer I_PT = -PT;
  localparam integer I_PL = -PL;
  localparam integer I_ONE = 1;
  localparam signed [PW-1:0] P_HL = I_HL[PW-1:0];
  localparam signed [PW-1:0] P_WL = I_WL[PW-1:0];
  localparam signed [PW-1:0] P_OHL = I_OHL[PW-1:0];
  localparam signed [PW-1:0] P_OWL = I_OWL[PW-1:0];
  localparam signed [PW-1:0] P_KH = I_KH[PW-1:0];
  localparam signed [PW-1:0] P_KW = I_KW[PW-1:0];
  localparam signed [PW-1:0] P_PT = I_PT[PW-1:0];
  localparam signed [PW-1:0] P_PL = I_PL[PW-1:0];
  localparam signed [PW-1:0] P_NR = NR[PW-1:0];
  localparam signed [PW-1:0] P_SH = SH[PW-1:0];
  localparam signed [PW-1:0] P_SW = SW[PW-1:0];
  localparam signed [PW-1:0] P_ONE = I_ONE[PW-1:0];
  localparam signed [PW-1:0] P_ZERO = {PW{1'b0}};

  reg [CW-1:0] mem [0:NR*(1<<CB)-1];

  reg signed [PW-1:0] in_r;
  reg signed [PW-1:0] in_c;
  reg in_done;
  reg signed [PW-1:0] out_r;
  reg signed [PW-1:0] out_c;
  reg signed [PW-1:0] top;
  reg signed [PW-1:0] left;
  reg out_done;

  wire signed [PW-1:0] bot_raw = top + P_KH;
  wire signed [PW-1:0] right_raw = left + P_KW;
  wire signed [PW-1:0] bot = (bot_raw > P_HL) ? P_HL : bot_raw;
  wire signed [PW-1:0] right = (right_raw > P_WL) ? P_WL : right_raw;

  wire avail = !out_done && (in_done || (in_r > bot) || ((in_r == bot) && (in_c > right)));
  assign out_valid = avail;
  assign in_ready = !in_done && (out_done || (in_r < top + P_NR));

  wire in_fire = in_valid && in_ready;
  wire out_fire = avail && out_ready;
  wire in_last = in_fire && (in_r == P_HL) && (in_c == P_WL);
  wire out_last = out_fire && (out_r == P_OHL) && (out_c == P_OWL);
  wire next_image = (in_done || in_last) && (out_done || out_last);

  always @(posedge clk) begin
    if (in_fire) mem[{in_r[LNR-1:0], in_c[CB-1:0]}] <= in_data;
  end

  always @(posedge clk) begin
    if (rst || next_image) begin
      in_r <= P_ZERO;
      in_c <= P_ZERO;
      in_done <= 1'b0;
      out_r <= P_ZERO;
      out_c <= P_ZERO;
      top <= P_PT;
      left <= P_PL;
      out_done <= 1'b0;
    end else begin
      if (in_fire) begin
        if (in_c == P_WL) begin
          in_c <= P_ZERO;
          in_r <= in_r + P_ONE;
        end else begin
          in_c <= in_c + P_ONE;
        end
        if (in_last) in_done <= 1'b1;
      end
      if (out_fire) begin
        if (out_c == P_OWL) begin
          out_c <= P_ZERO;
          left <= P_PL;
          out_r <= out_r + P_ONE;
          top <= top + P_SH;
        end else begin
          out_c <= out_c + P_ONE;
          left <= left + P_SW;
        end
        if (out_last) out_done <= 1'b1;
      end
    end
  end

  genvar ki, kj;
  generate
    for (ki = 0; ki < KH; ki = ki + 1) begin : g_row
      for (kj = 0; kj < KW; kj = kj + 1) begin : g_col
        localparam integer K = ki * KW + kj;
        localparam integer I_DR = ki * DH;
        localparam integer I_DC = kj * DW;
        localparam signed [PW-1:0] P_DR = I_DR[PW-1:0];
        localparam signed [PW-1:0] P_DC = I_DC[PW-1:0];
        wire signed [PW-1:0] r = top + P_DR;
        wire signed [PW-1:0] c = left + P_DC;
        wire in_img = !r[PW-1] && (r <= P_HL) && !c[PW-1] && (c <= P_WL);
        assign out_mask[K] = in_img;
        assign out_data[K*CW +: CW] = in_img ? mem[{r[LNR-1:0], c[CB-1:0]}] : {CW{1'b0}};
      end
    end
  endgenerate
endmodule
`default_nettype wire
