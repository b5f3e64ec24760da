using System.Net;
using System.Text;
using System.Text.Json;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;
using static Mesh.Cli.Tests.InProcessCli;

namespace Mesh.Cli.Tests;

/// <summary>
/// Slow is not failed, as the CLI sees it: a node that answers 503 (busy) is asked once more,
/// and the user is told so; push --wait waits past a pending report and names the node still
/// pending when the wait ends.
/// </summary>
public sealed class SlowNodeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-busy-").FullName;

    private string Manifest()
    {
        var path = Path.Combine(_dir, "motd.yaml");
        File.WriteAllText(path, "manifest: motd\nresources:\n  - { id: motd, type: file, path: /motd, content: hi }\n");
        return path;
    }

    [Fact]
    public async Task A_push_answered_503_is_sent_once_more_and_succeeds_saying_so_on_stderr()
    {
        using var node = new FakeNode([503, 200]);

        var (code, _, err) = await Run("--api", node.Api, "push", Manifest());

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(2, node.Pushes);
        Assert.Contains("node busy (503): the node's replicated store did not answer within 15s", err);
        Assert.Contains("retrying once", err);
    }

    [Fact]
    public async Task A_node_still_busy_the_second_time_fails_the_push_with_its_reason_and_is_not_asked_a_third_time()
    {
        using var node = new FakeNode([503, 503, 200]);

        var (code, _, err) = await Run("--api", node.Api, "push", Manifest());

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal(2, node.Pushes);
        Assert.Contains("did not answer within 15s", err);
    }

    [Fact]
    public async Task Push_wait_prints_a_pending_report_once_waits_past_it_and_names_the_node_still_pending_when_the_wait_ends()
    {
        var version = new HybridTimestamp(1796364933721, 0, "a");
        var revision = new RevisionRecord("motd", version, new string('a', 64), 136, "tester", "a", "akka.tcp://mesh@127.0.0.1:4710",
            DateTimeOffset.UtcNow, "", TargetSpec.All, null);
        ApplyReport Report(string node, ApplyOutcome outcome, string? error) =>
            new(node, "motd", version, revision.Hash, outcome, 0, [], error, 5, DateTimeOffset.UtcNow);
        const string Why = "waiting for the body: origin akka.tcp://mesh@127.0.0.1:4710 did not answer within 5s at byte 0; retrying until 12:05:00 UTC";
        using var node = new FakeNode([200], new PushResponse([new PushedRevision(revision, false, ["a", "b"])]),
        [
            new MeshEvent("report", Report("b", ApplyOutcome.Pending, Why)),
            new MeshEvent("report", Report("a", ApplyOutcome.Ok, null)),
            new MeshEvent("report", Report("b", ApplyOutcome.Pending, Why)),
        ]);

        var (code, output, _) = await Run("--api", node.Api, "push", Manifest(), "--wait", "--timeout", "3s");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Single(output.Split('\n'), l => l.Contains("pending b  motd"));
        Assert.Contains("ok      a  motd", output);
        Assert.Contains($"pending: b (motd): {Why} (still pending after 3s)", output);
        Assert.Contains("0 failed, 1 pending, 0 silent, 1 ok", output);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
