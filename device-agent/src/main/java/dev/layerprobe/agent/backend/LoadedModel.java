package dev.layerprobe.agent.backend;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.util.List;
import java.util.Map;

/**
 * A model prepared by a {@link Backend}, ready to run. Thread-safe: several runs may proceed at
 * once. After {@link #close()} every method throws {@link IllegalStateException}.
 */
public interface LoadedModel extends AutoCloseable {

    /** The model's inputs (shapes may hold -1 for dynamic dimensions). */
    List<ValueInfo> inputs();

    /**
     * Runs the model; the observer sees every layer's output in execution order, on the calling
     * thread. An observer that throws aborts the run and its exception propagates unchanged.
     *
     * @param feeds float tensors by input name
     */
    void run(Map<String, Tensor> feeds, LayerObserver observer) throws LayerProbeException;

    @Override
    void close();
}
