/**
 * Identifier rules for generated Verilog: no Verilog-2005 or SystemVerilog keyword (so SystemVerilog
 * tools read the files too), nothing in the `qk_` namespace of the hand-written modules, and no two
 * names that differ only by case (module names are file names, and some file systems ignore case).
 */
import { IdentifierPool, type IdentifierRules } from './identifiers.js';

/** Verilog-2005 (IEEE 1364) and SystemVerilog (IEEE 1800-2017) keywords. */
export const VERILOG_KEYWORDS: ReadonlySet<string> = new Set([
  // Verilog-2005
  'always', 'and', 'assign', 'automatic', 'begin', 'buf', 'bufif0', 'bufif1', 'case', 'casex', 'casez', 'cell',
  'cmos', 'config', 'deassign', 'default', 'defparam', 'design', 'disable', 'edge', 'else', 'end', 'endcase',
  'endconfig', 'endfunction', 'endgenerate', 'endmodule', 'endprimitive', 'endspecify', 'endtable', 'endtask',
  'event', 'for', 'force', 'forever', 'fork', 'function', 'generate', 'genvar', 'highz0', 'highz1', 'if',
  'ifnone', 'incdir', 'include', 'initial', 'inout', 'input', 'instance', 'integer', 'join', 'large',
  'liblist', 'library', 'localparam', 'macromodule', 'medium', 'module', 'nand', 'negedge', 'nmos', 'nor',
  'noshowcancelled', 'not', 'notif0', 'notif1', 'or', 'output', 'parameter', 'pmos', 'posedge', 'primitive',
  'pull0', 'pull1', 'pulldown', 'pullup', 'pulsestyle_onevent', 'pulsestyle_ondetect', 'rcmos', 'real',
  'realtime', 'reg', 'release', 'repeat', 'rnmos', 'rpmos', 'rtran', 'rtranif0', 'rtranif1', 'scalared',
  'showcancelled', 'signed', 'small', 'specify', 'specparam', 'strong0', 'strong1', 'supply0', 'supply1',
  'table', 'task', 'time', 'tran', 'tranif0', 'tranif1', 'tri', 'tri0', 'tri1', 'triand', 'trior', 'trireg',
  'unsigned', 'use', 'uwire', 'vectored', 'wait', 'wand', 'weak0', 'weak1', 'while', 'wire', 'wor', 'xnor',
  'xor',
  // SystemVerilog additions
  'accept_on', 'alias', 'always_comb', 'always_ff', 'always_latch', 'assert', 'assume', 'before', 'bind',
  'bins', 'binsof', 'bit', 'break', 'byte', 'chandle', 'checker', 'class', 'clocking', 'const', 'constraint',
  'context', 'continue', 'cover', 'covergroup', 'coverpoint', 'cross', 'dist', 'do', 'endchecker', 'endclass',
  'endclocking', 'endgroup', 'endinterface', 'endpackage', 'endprogram', 'endproperty', 'endsequence', 'enum',
  'eventually', 'expect', 'export', 'extends', 'extern', 'final', 'first_match', 'foreach', 'forkjoin',
  'global', 'iff', 'ignore_bins', 'illegal_bins', 'implements', 'implies', 'import', 'inside', 'int',
  'interconnect', 'interface', 'intersect', 'join_any', 'join_none', 'let', 'local', 'logic', 'longint',
  'matches', 'modport', 'nettype', 'new', 'nexttime', 'null', 'package', 'packed', 'priority', 'program',
  'property', 'protected', 'pure', 'rand', 'randc', 'randcase', 'randsequence', 'ref', 'reject_on', 'restrict',
  'return', 's_always', 's_eventually', 's_nexttime', 's_until', 's_until_with', 'sequence', 'shortint',
  'shortreal', 'soft', 'solve', 'static', 'string', 'strong', 'struct', 'super', 'sync_accept_on',
  'sync_reject_on', 'tagged', 'this', 'throughout', 'timeprecision', 'timeunit', 'type', 'typedef', 'union',
  'unique', 'unique0', 'until', 'until_with', 'untyped', 'var', 'virtual', 'void', 'wait_order', 'weak',
  'wildcard', 'with', 'within',
  // port and signal names every generated module uses
  'clk', 'rst', 'ce', 'in_valid', 'in_ready', 'in_data', 'out_valid', 'out_ready', 'out_data',
]);

export const VERILOG_RULES: IdentifierRules = {
  keywords: VERILOG_KEYWORDS,
  maxLength: 48,
  caseInsensitive: true,
  // qk_ is the hand-written modules' namespace; Vqk/verilated are the simulator's; a leading _ or $ is odd.
  reserved: [/^qk_/i, /^vqk/i, /^verilated/i, /^_/],
  fallbackPrefix: 'm_',
};

export function verilogPool(): IdentifierPool {
  return new IdentifierPool(VERILOG_RULES);
}
