package dev.layerprobe.simulator.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.compiler.Placements;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.profile.FaultKind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The op table's rows against each other and against the readers that answer from it without
 * running a model: every registered op and every fused pattern has one consistent set of facts.
 * (The compiler's binding is checked against the rows on real layers by {@code OpBindingAgreementTest}.)
 */
class OpTraitsTest {
    /** The NPU form in which each fault kind is a bug of the device; null: any form. */
    private static final Map<FaultKind, NpuForm> FAULT_FORMS = new EnumMap<>(Map.of(
            FaultKind.DEPTH_TO_SPACE_MODE_SWAP, NpuForm.DATA_MOVEMENT,
            FaultKind.DROP_BIAS, NpuForm.INTEGER_KERNEL,
            FaultKind.REQUANT_SHIFT_OFF_BY_ONE, NpuForm.INTEGER_KERNEL,
            FaultKind.ACCUMULATOR_INT16_WRAP, NpuForm.INTEGER_KERNEL,
            FaultKind.ZERO_POINT_IGNORED, NpuForm.INTEGER_KERNEL,
            FaultKind.LUT_COARSE, NpuForm.LUT,
            FaultKind.SOFTMAX_NO_MAX_SUBTRACT, NpuForm.INTEGER_KERNEL,
            FaultKind.MATMUL_TRANSPOSE_B, NpuForm.INTEGER_KERNEL,
            FaultKind.RNN_GATE_ORDER, NpuForm.INTEGER_KERNEL));

    /** Every op type and pattern name a layer can carry. */
    private static List<String> layerOps() {
        List<String> all = new ArrayList<>(FloatKernels.supportedOps());
        OpTraits.patterns().forEach(p -> all.add(p.name()));
        return all;
    }

    @Test
    void everyRowNamesARegisteredOp() {
        for (OpTraits.Op o : OpTraits.ops()) {
            assertTrue(FloatKernels.supports(o.name()), o.name() + " has a row but no float kernel: misspelt?");
        }
        for (OpTraits.Pattern p : OpTraits.patterns()) {
            for (String op : p.spelling()) {
                assertTrue(FloatKernels.supports(op), p.name() + " is spelt with " + op + ", which has no kernel");
                assertTrue(
                        OpTraits.of(op).patternMember(),
                        p.name() + " is spelt with " + op + ", which the pattern fusion does not take");
            }
        }
    }

    @Test
    void everyPatternIsALookupTablePlacedOnTheNpu() {
        for (OpTraits.Pattern p : OpTraits.patterns()) {
            OpTraits.Op t = OpTraits.of(p.name());
            assertEquals(NpuForm.LUT, t.form(), p.name());
            assertTrue(t.lutEligible(), p.name());
            assertEquals(Placement.NPU, Placements.placement(p.name()), p.name());
            assertTrue(OpTraits.faultApplies(FaultKind.LUT_COARSE, p.name()), p.name());
            // A pattern named like an ONNX op (HardSwish, Gelu, ...) makes a layer of that op's name:
            // one name, one set of facts, whichever way the exporter wrote it.
            assertEquals(p.traits().form(), t.form(), p.name());
            assertEquals(p.traits().faults(), t.faults(), p.name());
        }
    }

    @Test
    void placementFollowsTheFormForEveryRegisteredOp() {
        for (String op : layerOps()) {
            NpuForm form = OpTraits.of(op).form();
            assertEquals(form.onNpu() ? Placement.NPU : Placement.CPU, Placements.placement(op), op);
        }
        assertEquals(NpuForm.CPU_FALLBACK, OpTraits.of("NoSuchOp").form());
    }

    @Test
    void faultKindsApplyOnlyWhereTheFormMakesThemMeaningful() {
        for (FaultKind k : FaultKind.values()) {
            List<String> targets = OpTraits.faultTargets(k);
            assertFalse(targets.isEmpty(), k + " applies to nothing");
            if (k == FaultKind.INPUT_CHANNEL_SWAP) {
                assertEquals(List.of("*"), targets, "reading the input reversed is a fault of any layer");
                continue;
            }
            NpuForm form = FAULT_FORMS.get(k);
            assertNotNull(form, k + ": state in which NPU form this fault lives");
            for (String op : targets) {
                assertEquals(form, OpTraits.of(op).form(), k + " on " + op);
            }
        }
        // The binding builds every table through the faulted path: each LUT can be coarse.
        for (String op : layerOps()) {
            assertEquals(OpTraits.of(op).lutEligible(), OpTraits.faultApplies(FaultKind.LUT_COARSE, op), op);
        }
        assertEquals(List.of("Conv", "Gemm"), OpTraits.faultTargets(FaultKind.DROP_BIAS));
    }

    @Test
    void onlyDataMovementKeepsItsInputsQuantizationAndEveryExceptionSaysWhy() {
        for (String op : layerOps()) {
            OpTraits.Op o = OpTraits.of(op);
            if (o.keepsInputQuant()) {
                assertEquals(NpuForm.DATA_MOVEMENT, o.form(), op);
            }
            if (o.ownOutputQuant() != null) {
                assertEquals(NpuForm.DATA_MOVEMENT, o.form(), op + ": only data movement could keep it");
                assertFalse(o.ownOutputQuant().isBlank(), op);
            }
        }
        assertTrue(OpTraits.of("Reshape").keepsInputQuant());
        assertFalse(OpTraits.of("Conv").keepsInputQuant());
    }

    @Test
    void onlyArithmeticLayersTakeAFollowingRelu() {
        for (String op : layerOps()) {
            if (OpTraits.of(op).absorbsActivation()) {
                assertTrue(
                        Set.of(NpuForm.INTEGER_KERNEL, NpuForm.CPU_FALLBACK)
                                .contains(OpTraits.of(op).form()),
                        op + ": a Relu after a table or a move is no part of its arithmetic");
            }
        }
    }
}
