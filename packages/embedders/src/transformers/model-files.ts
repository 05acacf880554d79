export type TransformersDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'bnb4' | 'q4f16';

/** The ONNX file suffix transformers.js picks for each dtype (see its utils/dtypes.js). */
const SUFFIXES: Record<TransformersDtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  bnb4: '_bnb4',
  q4f16: '_q4f16',
};

export const DTYPES = Object.keys(SUFFIXES) as readonly TransformersDtype[];

/** The weights file a dtype loads, relative to the model folder. */
export function onnxFileName(dtype: TransformersDtype): string {
  return `onnx/model${SUFFIXES[dtype]}.onnx`;
}

/** What a feature-extraction pipeline reads, relative to the model folder. */
export function requiredModelFiles(dtype: TransformersDtype): string[] {
  return ['config.json', 'tokenizer.json', 'tokenizer_config.json', onnxFileName(dtype)];
}
