package dev.offramp.server;

import dev.offramp.api.Offramp;
import dev.offramp.api.TinyModelFolder;

import java.io.IOException;
import java.nio.file.Path;

/** The core tests' tiny model folder, loaded through the facade, served behind a {@link HeldScheduler}. */
final class ServerTestModel {
    private ServerTestModel() {}

    static ServedModel served(Offramp offramp, HeldScheduler scheduler) {
        var info = offramp.info();
        return new ServedModel(info.name(), "1", "offramp", info.labels(), info.layers(), info.maxTokens(), "test model",
                (text, pair, truncate) -> ModelLoader.encode(offramp, text, pair, truncate), scheduler);
    }

    static Path write(Path root) throws IOException {
        return TinyModelFolder.write(root);
    }

    static ServerConfig config(Path model) {
        return ServerConfig.defaults(model).withPort(0).withDrainTimeoutMs(10_000);
    }
}
