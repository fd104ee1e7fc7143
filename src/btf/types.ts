/**
 * The public BTF model. Types refer to each other by id (a number), exactly
 * as the wire format does, so a type can be decoded alone and on demand.
 * Id 0 is `void`.
 */

export type BtfKind =
  | 'void' | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef'
  | 'volatile' | 'const' | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec'
  | 'float' | 'decl_tag' | 'type_tag' | 'enum64';

export type BtfLinkage = 'static' | 'global' | 'extern';

export interface BtfMember {
  readonly name: string;
  readonly type: number;
  /** Offset from the start of the struct, in bits. */
  readonly bitOffset: number;
  /** Width of a bitfield in bits, 0 for a normal member. */
  readonly bitfieldSize: number;
}

export interface BtfEnumValue<V> {
  readonly name: string;
  readonly value: V;
}

export interface BtfParam {
  readonly name: string;
  readonly type: number;
}

export interface BtfVarSecinfo {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

interface Base<K extends BtfKind> {
  readonly kind: K;
  readonly id: number;
  readonly name: string;
}

export type BtfVoid = Base<'void'>;
export interface BtfInt extends Base<'int'> {
  readonly size: number;
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
  readonly bitOffset: number;
  readonly bits: number;
}
export interface BtfPtr extends Base<'ptr'> { readonly type: number }
export interface BtfArray extends Base<'array'> {
  readonly elemType: number;
  readonly indexType: number;
  readonly nelems: number;
}
export interface BtfComposite<K extends 'struct' | 'union'> extends Base<K> {
  readonly size: number;
  readonly members: readonly BtfMember[];
}
export type BtfStruct = BtfComposite<'struct'>;
export type BtfUnion = BtfComposite<'union'>;
export interface BtfEnum extends Base<'enum'> {
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue<number>[];
}
export interface BtfEnum64 extends Base<'enum64'> {
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue<bigint>[];
}
export interface BtfFwd extends Base<'fwd'> { readonly union: boolean }
export interface BtfRef<K extends 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'> extends Base<K> {
  readonly type: number;
}
export type BtfTypedef = BtfRef<'typedef'>;
export type BtfVolatile = BtfRef<'volatile'>;
export type BtfConst = BtfRef<'const'>;
export type BtfRestrict = BtfRef<'restrict'>;
export type BtfTypeTag = BtfRef<'type_tag'>;
export interface BtfFunc extends Base<'func'> {
  readonly type: number;
  readonly linkage: BtfLinkage;
}
export interface BtfFuncProto extends Base<'func_proto'> {
  readonly returnType: number;
  /** A last parameter with type 0 and no name means `...`. */
  readonly params: readonly BtfParam[];
}
export interface BtfVar extends Base<'var'> {
  readonly type: number;
  readonly linkage: BtfLinkage;
}
export interface BtfDatasec extends Base<'datasec'> {
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}
export interface BtfFloat extends Base<'float'> { readonly size: number }
export interface BtfDeclTag extends Base<'decl_tag'> {
  readonly type: number;
  /** -1: the tag applies to the type itself; otherwise a member or parameter index. */
  readonly componentIdx: number;
}

export type BtfType =
  | BtfVoid | BtfInt | BtfPtr | BtfArray | BtfStruct | BtfUnion | BtfEnum | BtfEnum64 | BtfFwd
  | BtfTypedef | BtfVolatile | BtfConst | BtfRestrict | BtfTypeTag | BtfFunc | BtfFuncProto
  | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;

/** Kinds that only qualify or rename another type. */
export type BtfModifier = BtfTypedef | BtfVolatile | BtfConst | BtfRestrict | BtfTypeTag;

export function isModifier(t: BtfType): t is BtfModifier {
  return t.kind === 'typedef' || t.kind === 'volatile' || t.kind === 'const' || t.kind === 'restrict' || t.kind === 'type_tag';
}
