// qkeras-ts hand-written RTL: balanced adder tree.
//
// Sums N words of W bits modulo 2^W. The generated layers size W so that the exact final sum fits, and
// two's complement addition is exact modulo 2^W, so partial sums may wrap without changing the result.
// The tree is stored heap-style: node k adds nodes 2k+1 and 2k+2, the N leaves sit at N-1 .. 2N-2,
// which gives ceil(log2 N) adder levels for any N.
`default_nettype none
module qk_adder_tree #(
  parameter integer N = 2,
  parameter integer W = 8
) (
  input  wire [N*W-1:0] x,
  output wire [W-1:0]   y
);
  reg [W-1:0] node [0:2*N-2];
  integer k;
  always @* begin
    for (k = 0; k < N; k = k + 1) node[N-1+k] = x[k*W +: W];
    for (k = N - 2; k >= 0; k = k - 1) node[k] = node[2*k+1] + node[2*k+2];
  end
  assign y = node[0];
endmodule
`default_nettype wire
