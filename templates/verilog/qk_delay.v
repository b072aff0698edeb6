// qkeras-ts hand-written RTL: D register stages with a clock enable (pipeline registers between layers,
// delay lines that align parallel branches, the valid pipeline). D = 0 is a wire. RESET = 1 clears the
// stages synchronously (valid bits); data registers need no reset.
`default_nettype none
module qk_delay #(
  parameter integer W     = 1,
  parameter integer D     = 1,
  parameter integer RESET = 0
) (
  /* verilator lint_off UNUSEDSIGNAL */
  input  wire         clk,
  input  wire         rst,
  input  wire         ce,
  /* verilator lint_on UNUSEDSIGNAL */
  input  wire [W-1:0] x,
  output wire [W-1:0] y
);
  generate
    if (D == 0) begin : g_wire
      assign y = x;
    end else begin : g_regs
      // Word 0 takes x; each enabled clock moves every word one place up; the top word is the output.
      reg [D*W-1:0] stages;
      always @(posedge clk) begin
        if (RESET != 0 && rst) begin
          stages <= {D*W{1'b0}};
        end else if (ce) begin
          stages <= (stages << W) | {{(D-1)*W{1'b0}}, x};
        end
      end
      assign y = stages[D*W-1 -: W];
    end
  endgenerate
endmodule
`default_nettype wire
