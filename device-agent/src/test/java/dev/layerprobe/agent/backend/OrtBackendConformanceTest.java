package dev.layerprobe.agent.backend;

/** The backend conformance suite on ONNX Runtime. */
class OrtBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend newBackend() throws Exception {
        return new OrtBackend();
    }
}
