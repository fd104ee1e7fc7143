/**
 * The pcap filter language (pcap-filter(7)) compiled to classic BPF, as
 * libpcap 1.10 does it: same grammar, same code shapes, same optimizer, so
 * `compileFilter(expr)` gives the program `tcpdump -d expr` prints, and the
 * same error text for expressions libpcap refuses. Pure TypeScript; runs in
 * browsers.
 */
export { compileFilter, type CompileOptions } from './compile.js';
export { FilterError } from './errors.js';
export type { LinkType } from './gencode.js';
export { parseFilter, FilterSyntaxError, type FilterNode, type ArthNode } from './parser.js';
export { tokenize, type Token, type TokenKind } from './lexer.js';
