/**
 * Just enough of the protobuf wire format and the ONNX schema (onnx/onnx.proto3) to write a
 * small inference graph from JavaScript, so tests can build a real model without Python.
 * Field numbers below are those of onnx.proto3.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

class ProtobufWriter {
  private readonly chunks: Uint8Array[] = [];

  private varint(value: bigint | number): void {
    let remaining = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let byte = Number(remaining & 0x7fn);
      remaining >>= 7n;
      if (remaining !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (remaining !== 0n);
    this.chunks.push(Uint8Array.from(bytes));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  integer(field: number, value: bigint | number): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    this.chunks.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (writer: ProtobufWriter) => void): this {
    const inner = new ProtobufWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const length = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const output = new Uint8Array(length);
    let offset = 0;
    for (const chunk of this.chunks) {
      output.set(chunk, offset);
      offset += chunk.length;
    }
    return output;
  }
}

/** TensorProto.DataType values. */
export const OnnxDataType = { float: 1, int64: 7 } as const;
export type OnnxElementType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

export interface OnnxTensor {
  name: string;
  dataType: OnnxElementType;
  dims: number[];
  /** Little-endian raw values: a Float32Array for float, a BigInt64Array for int64. */
  values: Float32Array | BigInt64Array;
}

export interface OnnxValueInfo {
  name: string;
  elementType: OnnxElementType;
  /** A number is a fixed size, a string a symbolic (dynamic) one such as 'batch'. */
  shape: Array<number | string>;
}

export type OnnxAttribute = { name: string; int: number } | { name: string; ints: number[] };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: OnnxAttribute[];
}

export interface OnnxModel {
  graphName: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Default opset (ai.onnx) version. */
  opsetVersion: number;
  irVersion: number;
}

function writeTensor(writer: ProtobufWriter, tensor: OnnxTensor): void {
  for (const dim of tensor.dims) writer.integer(1, dim); // dims
  writer.integer(2, tensor.dataType); // data_type
  writer.string(8, tensor.name); // name
  const raw = new Uint8Array(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength);
  writer.bytes(9, raw); // raw_data (little-endian, which typed arrays are on every platform Node runs on)
}

function writeValueInfo(writer: ProtobufWriter, info: OnnxValueInfo): void {
  writer.string(1, info.name); // name
  writer.message(2, (type) => {
    // TypeProto.tensor_type
    type.message(1, (tensorType) => {
      tensorType.integer(1, info.elementType); // elem_type
      tensorType.message(2, (shape) => {
        for (const dim of info.shape) {
          // TensorShapeProto.dim: dim_value = 1, dim_param = 2
          shape.message(1, (dimension) => {
            if (typeof dim === 'number') dimension.integer(1, dim);
            else dimension.string(2, dim);
          });
        }
      });
    });
  });
}

function writeNode(writer: ProtobufWriter, node: OnnxNode): void {
  for (const input of node.inputs) writer.string(1, input);
  for (const output of node.outputs) writer.string(2, output);
  if (node.name) writer.string(3, node.name);
  writer.string(4, node.opType);
  for (const attribute of node.attributes ?? []) {
    writer.message(5, (attributeWriter) => {
      attributeWriter.string(1, attribute.name);
      if ('int' in attribute) {
        attributeWriter.integer(3, attribute.int); // i
        attributeWriter.integer(20, 2); // type = INT
      } else {
        for (const value of attribute.ints) attributeWriter.integer(8, value); // ints
        attributeWriter.integer(20, 7); // type = INTS
      }
    });
  }
}

/** Serialises a ModelProto. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const writer = new ProtobufWriter();
  writer.integer(1, model.irVersion); // ir_version
  writer.string(2, 'engram-test-fixture'); // producer_name
  writer.message(7, (graph) => {
    for (const node of model.nodes) graph.message(1, (nodeWriter) => writeNode(nodeWriter, node));
    graph.string(2, model.graphName);
    for (const tensor of model.initializers) graph.message(5, (tensorWriter) => writeTensor(tensorWriter, tensor));
    for (const input of model.inputs) graph.message(11, (infoWriter) => writeValueInfo(infoWriter, input));
    for (const output of model.outputs) graph.message(12, (infoWriter) => writeValueInfo(infoWriter, output));
  });
  writer.message(8, (opset) => {
    opset.string(1, ''); // the default ai.onnx domain
    opset.integer(2, model.opsetVersion);
  });
  return writer.finish();
}
