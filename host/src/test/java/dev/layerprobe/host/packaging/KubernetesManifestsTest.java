package dev.layerprobe.host.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.layerprobe.host.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The manifests of packaging/k8s parse as YAML and agree with each other: the analysis Job reaches
 * the agents through their headless Service on the agents' port, runs one shard per index with as
 * many shards as completions, and writes where the merge Job reads.
 */
class KubernetesManifestsTest {
    private static final Path K8S = SharedData.projectRoot().resolve("packaging/k8s");

    @Test
    void everyManifestParsesAndTheyAgree() throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(K8S)) {
            for (Path f :
                    files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                try (MappingIterator<JsonNode> it =
                        new YAMLMapper().readerFor(JsonNode.class).readValues(f.toFile())) {
                    for (JsonNode d : it.readAll()) {
                        assertTrue(d.hasNonNull("apiVersion") && d.hasNonNull("kind"), f + ": " + d);
                        docs.add(d);
                    }
                }
            }
        }
        JsonNode service = only(docs, "Service", "layerprobe-agents");
        JsonNode agents = only(docs, "StatefulSet", "layerprobe-agent");
        JsonNode analyze = only(docs, "Job", "layerprobe-analyze");
        JsonNode merge = only(docs, "Job", "layerprobe-merge");

        assertEquals("None", service.at("/spec/clusterIP").asText(), "a headless Service resolves to every pod");
        assertEquals(service.at("/spec/selector"), agents.at("/spec/selector/matchLabels"));
        assertEquals("layerprobe-agents", agents.at("/spec/serviceName").asText());
        int port = service.at("/spec/ports/0/port").asInt();
        JsonNode agent = agents.at("/spec/template/spec/containers/0");
        assertEquals(port, agent.at("/ports/0/containerPort").asInt());
        assertEquals(port, agent.at("/readinessProbe/grpc/port").asInt(), "readiness is the agent's grpc.health.v1");
        String agentArgs = agent.get("args").toString();
        assertTrue(agentArgs.contains("\"--port\",\"" + port + "\"") && agentArgs.contains("\"0.0.0.0\""), agentArgs);

        assertEquals("Indexed", analyze.at("/spec/completionMode").asText());
        String script = analyze.at("/spec/template/spec/containers/0/args/0").asText();
        assertTrue(
                script.contains("--device dns:///layerprobe-agents.${POD_NAMESPACE}.svc.cluster.local:" + port),
                script);
        Matcher shard =
                Pattern.compile("--shard \\$\\{JOB_COMPLETION_INDEX}/(\\d+)").matcher(script);
        assertTrue(shard.find(), script);
        assertEquals(analyze.at("/spec/completions").asInt(), Integer.parseInt(shard.group(1)), "shards = completions");
        assertTrue(script.contains("--report /reports/shard-${JOB_COMPLETION_INDEX}"), script);
        assertEquals(
                analyze.at("/spec/template/spec/volumes/1/persistentVolumeClaim/claimName"),
                merge.at("/spec/template/spec/volumes/0/persistentVolumeClaim/claimName"));
        assertTrue(
                merge.at("/spec/template/spec/containers/0/args/0").asText().contains("merge /reports/shard-*"),
                merge.toString());
    }

    private static JsonNode only(List<JsonNode> docs, String kind, String name) {
        List<JsonNode> found = docs.stream()
                .filter(d -> d.get("kind").asText().equals(kind)
                        && d.at("/metadata/name").asText().equals(name))
                .toList();
        assertEquals(1, found.size(), kind + " " + name);
        return found.get(0);
    }
}
