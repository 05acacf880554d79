import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeOnnxModel, OnnxDataType } from './onnx-writer.js';

/**
 * A real, loadable, 8-dimensional "BERT" for tests: a WordPiece tokenizer over ~100 words and an
 * ONNX graph `input_ids, attention_mask, token_type_ids -> last_hidden_state` made of an
 * embedding lookup plus a token-type embedding, masked by the attention mask. There are no
 * attention layers, so mean pooling gives the average of the word vectors, and the table below
 * makes words of one topic point the same way: texts about the same topic are close.
 */
export const TINY_BERT_DIMENSIONS = 8;

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** Each topic owns one axis of the 8-dimensional space. */
const TOPICS: Record<string, { axis: number; words: string[] }> = {
  animals: {
    axis: 0,
    words: ['cat', 'cats', 'kitten', 'dog', 'dogs', 'puppy', 'pet', 'pets', 'mouse', 'animal', 'animals', 'bark', 'meow'],
  },
  finance: {
    axis: 1,
    words: ['money', 'bank', 'stock', 'stocks', 'market', 'markets', 'price', 'prices', 'interest', 'rates', 'inflation', 'finance', 'fell'],
  },
  weather: {
    axis: 2,
    words: ['rain', 'sunny', 'cloud', 'clouds', 'storm', 'weather', 'snow', 'wind', 'tomorrow', 'forecast', 'expected', 'cold'],
  },
  software: {
    axis: 3,
    words: ['code', 'bug', 'function', 'compile', 'error', 'test', 'tests', 'deploy', 'server', 'password', 'reset', 'caching'],
  },
};

/** Words that carry little meaning: short vectors on their own axis. */
const FUNCTION_WORDS = (
  'the a an is are on of and to in my i how do it today sat chased sharply make makes possible ' +
  'deduplication deterministic embeddings repeated text word never embedded about with for'
).split(' ');

/** WordPiece pieces, so unseen words are split rather than all mapped to [UNK]. */
const SUBWORDS = ['##s', '##ing', '##ed', '##1', '##2', '##3', '##4', '##5', '##6', '##7', '##8', '##9', '##0'];

/** A deterministic value in [-1, 1) from a string. */
function pseudoRandom(text: string, salt: number): number {
  let hash = 0x811c9dc5 ^ salt;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) / 0x1_0000_0000) * 2 - 1;
}

function vectorFor(token: string): number[] {
  const vector = new Array<number>(TINY_BERT_DIMENSIONS).fill(0);
  if (token === '[PAD]') return vector;
  const noise = (scale: number) => {
    for (let axis = 5; axis < TINY_BERT_DIMENSIONS; axis++) vector[axis] = (vector[axis] ?? 0) + scale * pseudoRandom(token, axis);
  };
  const topic = Object.values(TOPICS).find((candidate) => candidate.words.includes(token));
  if (topic) {
    vector[topic.axis] = 1;
    noise(0.3);
  } else if (token === '[UNK]') {
    vector[7] = 0.5;
  } else if (token === '[CLS]' || token === '[SEP]' || token === '[MASK]') {
    vector[token === '[CLS]' ? 5 : 6] = 0.1;
  } else {
    vector[4] = 0.2;
    noise(0.05);
  }
  return vector;
}

export interface TinyBertModel {
  /** The model id to pass as `model` together with `localModelPath`. */
  model: string;
  /** The directory holding `<model>/config.json` etc. */
  localModelPath: string;
  dimensions: number;
  vocabulary: string[];
}

/**
 * Writes the model under `<localModelPath>/<model>/` in the layout transformers.js loads:
 * config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (also saved as
 * onnx/model_quantized.onnx, the file the q8 dtype selects).
 */
export async function writeTinyBertModel(localModelPath: string, model = 'engram-test/tiny-bert'): Promise<TinyBertModel> {
  const vocabulary = [
    ...SPECIAL_TOKENS,
    ...Object.values(TOPICS).flatMap((topic) => topic.words),
    ...FUNCTION_WORDS,
    // Single characters, so any ASCII word can be spelled out (except 'a' and 'i', listed above).
    ...'bcdefghjklmnopqrstuvwxyz0123456789'.split(''),
    ...SUBWORDS,
  ];
  if (new Set(vocabulary).size !== vocabulary.length) throw new Error('tiny BERT vocabulary has duplicates');
  const tokenId = (token: string) => vocabulary.indexOf(token);

  const directory = join(localModelPath, model);
  await mkdir(join(directory, 'onnx'), { recursive: true });

  const config = {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: TINY_BERT_DIMENSIONS,
    num_attention_heads: 1,
    num_hidden_layers: 0,
    intermediate_size: TINY_BERT_DIMENSIONS,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    vocab_size: vocabulary.length,
    pad_token_id: 0,
  };

  const addedTokens = SPECIAL_TOKENS.map((content) => ({
    id: tokenId(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [tokenId('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [tokenId('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocabulary.map((token, index) => [token, index])),
    },
  };
  const tokenizerConfig = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 512,
    clean_up_tokenization_spaces: true,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  };

  const table = new Float32Array(vocabulary.flatMap(vectorFor));
  const typeTable = new Float32Array(2 * TINY_BERT_DIMENSIONS);
  typeTable[5] = 0.01; // token type 0 nudges axis 5; type 1 (pairs) stays zero
  const dynamic = (elementType: 1 | 7, ...extra: number[]) => ({ elementType, shape: ['batch_size', 'sequence_length', ...extra] });
  const onnx = encodeOnnxModel({
    graphName: 'tiny_bert',
    irVersion: 8,
    opsetVersion: 13,
    inputs: [
      { name: 'input_ids', ...dynamic(OnnxDataType.int64) },
      { name: 'attention_mask', ...dynamic(OnnxDataType.int64) },
      { name: 'token_type_ids', ...dynamic(OnnxDataType.int64) },
    ],
    outputs: [{ name: 'last_hidden_state', ...dynamic(OnnxDataType.float, TINY_BERT_DIMENSIONS) }],
    initializers: [
      { name: 'word_embeddings', dataType: OnnxDataType.float, dims: [vocabulary.length, TINY_BERT_DIMENSIONS], values: table },
      { name: 'token_type_embeddings', dataType: OnnxDataType.float, dims: [2, TINY_BERT_DIMENSIONS], values: typeTable },
      { name: 'unsqueeze_axes', dataType: OnnxDataType.int64, dims: [1], values: BigInt64Array.of(2n) },
    ],
    nodes: [
      { opType: 'Gather', inputs: ['word_embeddings', 'input_ids'], outputs: ['words'], attributes: [{ name: 'axis', int: 0 }] },
      { opType: 'Gather', inputs: ['token_type_embeddings', 'token_type_ids'], outputs: ['types'], attributes: [{ name: 'axis', int: 0 }] },
      { opType: 'Add', inputs: ['words', 'types'], outputs: ['summed'] },
      { opType: 'Cast', inputs: ['attention_mask'], outputs: ['mask'], attributes: [{ name: 'to', int: OnnxDataType.float }] },
      { opType: 'Unsqueeze', inputs: ['mask', 'unsqueeze_axes'], outputs: ['mask_3d'] },
      { opType: 'Mul', inputs: ['summed', 'mask_3d'], outputs: ['last_hidden_state'] },
    ],
  });

  await Promise.all([
    writeFile(join(directory, 'config.json'), JSON.stringify(config, null, 2)),
    writeFile(join(directory, 'tokenizer.json'), JSON.stringify(tokenizer)),
    writeFile(join(directory, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2)),
    writeFile(join(directory, 'onnx', 'model.onnx'), onnx),
    writeFile(join(directory, 'onnx', 'model_quantized.onnx'), onnx),
  ]);
  return { model, localModelPath, dimensions: TINY_BERT_DIMENSIONS, vocabulary };
}
