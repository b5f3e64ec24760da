using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;
using static Mesh.Cli.Tests.InProcessCli;

namespace Mesh.Cli.Tests;

/// <summary>
/// A fleet of 150 as the CLI shows it: <c>push --wait</c> and <c>status</c> count the nodes by
/// state and name only the failed and the stragglers, in a few lines; <c>--table</c> and
/// <c>--json</c> still give every node; the filters reach the node as its query.
/// </summary>
public sealed class FleetSummaryTests : IDisposable
{
    private const int Fleet = 150;
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-fleet-").FullName;
    private static readonly HybridTimestamp Version = new(1796364933721, 0, "n001");
    private static readonly RevisionRecord Revision = new("motd", Version, new string('a', 64), 136, "tester", "n001", "akka.tcp://mesh@127.0.0.1:4710",
        DateTimeOffset.UtcNow, "", TargetSpec.All, null);
    private static readonly string[] Nodes = Enumerable.Range(1, Fleet).Select(i => $"n{i:000}").ToArray();

    /// <summary>n007, n042 and n133 fail; the others apply.</summary>
    private static readonly string[] Failing = ["n007", "n042", "n133"];

    private static ApplyReport Report(string node) => Failing.Contains(node)
        ? new(node, "motd", Version, Revision.Hash, ApplyOutcome.Failed, 0, [], $"motd: disk full on {node}", 5, DateTimeOffset.UtcNow)
        : new(node, "motd", Version, Revision.Hash, ApplyOutcome.Ok, 1, [], null, 5, DateTimeOffset.UtcNow);

    private string Manifest()
    {
        var path = Path.Combine(_dir, "motd.yaml");
        File.WriteAllText(path, "manifest: motd\nresources:\n  - { id: motd, type: file, path: /motd, content: hi }\n");
        return path;
    }

    private static FakeNode PushedTo(IEnumerable<string> reporting) =>
        new([200], new PushResponse([new PushedRevision(Revision, false, Nodes)]), reporting.Select(n => new MeshEvent("report", Report(n))).ToArray());

    [Fact]
    public async Task Push_wait_over_150_nodes_counts_them_and_names_only_the_failed_in_a_few_lines()
    {
        using var node = PushedTo(Nodes);

        var (code, output, _) = await Run("--api", node.Api, "push", Manifest(), "--wait", "--timeout", "10s");

        Assert.Equal(ExitCodes.Failed, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length < 30, output);
        // The targets are named only in part; no node that applied is named at all.
        Assert.Contains("150 node(s): n001, n002, n003", lines[0]);
        Assert.Contains("... and 130 more", lines[0]);
        Assert.DoesNotContain(lines.Skip(1), l => l.Contains("n150") || l.Contains("ok      n"));
        // Each failure as it comes, then together with its reason, and the counts.
        foreach (var failed in Failing)
        {
            Assert.Contains($"FAILED  {failed}  motd", output);
            Assert.Contains($"  {failed} (motd): motd: disk full on {failed}", output);
        }
        Assert.Contains("failed (3):", lines);
        Assert.Contains("[####################] 150/150 147 ok, 3 failed", lines);
        Assert.Equal("3 failed, 0 pending, 0 silent, 147 ok", lines[^1]);
        // Into a pipe, the progress is a line per tenth of the fleet, not a line per node.
        Assert.InRange(lines.Count(l => l.StartsWith('[')), 2, 11);
    }

    [Fact]
    public async Task Push_wait_names_the_silent_nodes_once_on_one_line_with_the_rest_counted()
    {
        // 25 nodes never report.
        using var node = PushedTo(Nodes.Take(125));

        var (code, output, _) = await Run("--api", node.Api, "push", Manifest(), "--wait", "--timeout", "2s");

        Assert.Equal(ExitCodes.Failed, code);
        var silent = Assert.Single(output.Split('\n'), l => l.StartsWith("silent ("));
        Assert.Equal("silent (25, no report within 2s): n126, n127, n128, n129, n130, n131, n132, n133, n134, n135, n136, n137, n138, n139, n140, " +
            "n141, n142, n143, n144, n145, ... and 5 more", silent);
        Assert.Contains("2 failed, 0 pending, 25 silent, 123 ok", output);
    }

    [Fact]
    public async Task Push_wait_with_table_prints_every_node_and_json_keeps_every_report()
    {
        using (var node = PushedTo(Nodes))
        {
            var (_, table, _) = await Run("--api", node.Api, "push", Manifest(), "--wait", "--timeout", "10s", "--table");
            Assert.Equal(Fleet, table.Split('\n').Count(l => l.StartsWith("  ok      n") || l.StartsWith("  FAILED  n")));
        }
        using (var node = PushedTo(Nodes))
        {
            var (_, json, _) = await Run("--api", node.Api, "push", Manifest(), "--wait", "--timeout", "10s", "--json");
            var outcome = System.Text.Json.JsonSerializer.Deserialize<ChangeFollower.ChangeOutcome>(json, ApiJson.Options)!;
            Assert.Equal(Fleet, outcome.Reports.Length);
            Assert.Equal(3, outcome.Failed.Length);
        }
    }

    private static StatusReport Status(int nodes) => new("n001", false, null, null,
        Nodes.Take(nodes).Select((n, i) => i % 50 == 49
            ? new NodeStatus(n, "motd", "pending", null, Revision)
            : new NodeStatus(n, "motd", Failing.Contains(n) ? "failed" : "ok", Report(n), Revision)).ToArray(), []);

    [Fact]
    public async Task Status_of_150_nodes_is_a_line_per_manifest_with_the_failed_and_pending_by_name()
    {
        using var node = new FakeNode([200], status: Status(Fleet));

        var (code, output, _) = await Run("--api", node.Api, "status");

        Assert.Equal(ExitCodes.Failed, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(2 + 1 + 3 + 1 + 3, lines.Length);
        Assert.Matches(@"^motd\s+" + System.Text.RegularExpressions.Regex.Escape(Version.ToString()) +
            @"\s+150\s+144 ok, 3 pending, 3 failed\s+\[###################\.\] 144/150$", lines[1].TrimEnd());
        Assert.Equal("failed (3):", lines[2]);
        Assert.Equal("  n007  motd: motd: disk full on n007", lines[3]);
        Assert.Equal("pending (3):", lines[6]);
        Assert.Equal(["  n050  motd", "  n100  motd", "  n150  motd"], lines[7..]);
    }

    [Fact]
    public async Task Status_of_a_few_nodes_stays_a_table_unless_a_summary_is_asked_for()
    {
        using var node = new FakeNode([200], status: Status(10));

        var (_, table, _) = await Run("--api", node.Api, "status");
        Assert.Equal(1 + 10, table.TrimEnd('\n').Split('\n').Length);

        var (_, summary, _) = await Run("--api", node.Api, "status", "--summary");
        Assert.Contains("9 ok, 1 failed", summary);
        Assert.Contains("  n007  motd: motd: disk full on n007", summary);

        var (both, _, err) = await Run("--api", node.Api, "status", "--summary", "--table");
        Assert.Equal(ExitCodes.Invalid, both);
        Assert.Contains("--summary and --table: choose one", err);
    }

    [Theory]
    [InlineData(new[] { "--failed" }, "?state=failed%2Crejected")]
    [InlineData(new[] { "--pending", "--node", "web-*" }, "?node=web-%2A&state=pending")]
    [InlineData(new[] { "--failed", "--pending" }, "?state=failed%2Crejected%2Cpending")]
    [InlineData(new string[0], "")]
    public async Task Status_filters_are_asked_of_the_node(string[] flags, string query)
    {
        using var node = new FakeNode([200]);

        var (code, output, _) = await Run(["--api", node.Api, "status", .. flags]);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(query, node.StatusQuery);
        if (flags.Contains("--failed")) Assert.StartsWith("no node has failed", output);
    }

    [Fact]
    public void Counts_come_in_a_fixed_order_and_long_name_lists_are_cut()
    {
        Assert.Equal("2 ok, 1 pending, 1 waiting, 3 failed", FleetSummary.Counts(["failed", "ok", "waiting", "failed", "pending", "ok", "failed"]));
        Assert.Equal("a, b", FleetSummary.Names(["a", "b"]));
        var many = Enumerable.Range(1, 25).Select(i => $"h{i}").ToArray();
        Assert.EndsWith("h20, ... and 5 more", FleetSummary.Names(many));
        Assert.Equal(["failed (25):", .. many.Take(20).Select(m => "  " + m), "  ... and 5 more (see all)"], FleetSummary.Group("failed", many, "see all"));
        Assert.Empty(FleetSummary.Group("failed", [], "see all"));
        Assert.Equal("[##########..........] 5/10", FleetSummary.Bar(5, 10));
        Assert.Equal("[....................] 0/10", FleetSummary.Bar(0, 10));
    }

    [Fact]
    public void A_status_filter_naming_an_unknown_state_is_refused_naming_it()
    {
        Assert.Null(StatusFilter.Refusal("failed,rejected"));
        Assert.Equal("state 'broken' is not one of ok, pending, failed, rejected", StatusFilter.Refusal("ok,broken"));
        Assert.Null(StatusFilter.States(""));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
