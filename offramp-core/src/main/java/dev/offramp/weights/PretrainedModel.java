package dev.offramp.weights;


import java.nio.file.Path;

/**
 * A pretrained encoder as loaded from disk or a Maven artifact.
 *
 * @param name          the name it was asked for ("bge-small-en-v1.5", "all-minilm-l6-v2" or a folder path)
 * @param weights       every parameter
 * @param tokenizerJson the Hugging Face tokenizer.json next to it
 * @param onnxFile      the ONNX file the weights came from, or null (a safetensors folder); ONNX Runtime runs it
 */
public record PretrainedModel(String name, BertWeights weights, Path tokenizerJson, Path onnxFile) {
    public BertConfig config() {
        return weights.config;
    }
}
