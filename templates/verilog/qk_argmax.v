// qkeras-ts hand-written RTL: index of the first maximum of N codes (a trailing softmax's argmax).
//
// A comparison tree carrying (value, index) pairs; on equal values the smaller index wins, so the result
// is the first maximum whatever the tree shape.
`default_nettype none
module qk_argmax #(
  parameter integer N      = 4,
  parameter integer W      = 8,
  parameter integer SIGNED = 1,
  parameter integer OUT_W  = 2
) (
  input  wire [N*W-1:0]   x,
  output wire [OUT_W-1:0] y
);
  reg [W-1:0] val [0:2*N-2];
  reg [OUT_W-1:0] idx [0:2*N-2];
  reg b_wins;
  integer k;
  always @* begin
    for (k = 0; k < N; k = k + 1) begin
      val[N-1+k] = x[k*W +: W];
      idx[N-1+k] = k[OUT_W-1:0];
    end
    for (k = N - 2; k >= 0; k = k - 1) begin
      b_wins = ((SIGNED != 0) ? ($signed(val[2*k+2]) > $signed(val[2*k+1])) : (val[2*k+2] > val[2*k+1]))
            || ((val[2*k+2] == val[2*k+1]) && (idx[2*k+2] < idx[2*k+1]));
      val[k] = b_wins ? val[2*k+2] : val[2*k+1];
      idx[k] = b_wins ? idx[2*k+2] : idx[2*k+1];
    end
  end
  assign y = idx[0];
endmodule
`default_nettype wire
