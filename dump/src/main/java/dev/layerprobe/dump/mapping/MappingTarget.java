package dev.layerprobe.dump.mapping;

/**
 * A layer a dump is mapped onto: a layer of the compiled ONNX model, or of a reference dump.
 *
 * @param name  the ONNX tensor name
 * @param op    its op type (ONNX spelling), or null when unknown
 * @param shape its dimensions, channels first, or null when unknown
 */
public record MappingTarget(String name, String op, int[] shape) {}
