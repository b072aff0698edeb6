// qkeras-ts hand-written RTL: the bits b of N binary ±1 codes (2-bit two's complement, c = 2b - 1), for
// XNOR-popcount and for dot products that fold the -1 into their bias. A procedural loop rather than a
// generate loop: Verilator refuses generate loops longer than 16 x its --unroll-count.
`default_nettype none
module qk_pm_bits #(
  parameter integer N = 1
) (
  /* verilator lint_off UNUSEDSIGNAL */
  input  wire [2*N-1:0] x,
  /* verilator lint_on UNUSEDSIGNAL */
  output reg  [N-1:0]   b
);
  integer i;
  always @* begin
    for (i = 0; i < N; i = i + 1) b[i] = ~x[2*i+1];
  end
endmodule
`default_nettype wire
