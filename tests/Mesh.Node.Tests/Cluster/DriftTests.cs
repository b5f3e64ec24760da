using System.Threading.Channels;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class DriftTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly CancellationTokenSource _stop = new();

    private const string Motd = """
        manifest: motd
        resources:
          - { id: etc, type: directory, path: /etc, mode: "0755" }
          - { id: motd, type: file, path: /etc/motd, content: "managed\n", mode: "0644", requires: [etc] }
        """;

    private static string Settings(string interval, bool watch) =>
        $"mesh.converge {{ interval = {interval}, jitter = 0, watch = {(watch ? "on" : "off")} }}";

    /// <summary>Starts a one-node mesh, applies the manifest, and returns the node with its event feed.</summary>
    private async Task<(MeshNode Node, ChannelReader<MeshEvent> Events)> Applied(string settings)
    {
        var node = _mesh.Start("solo", extraHocon: settings);
        await _mesh.Converged();
        var events = node.Listen(_stop.Token);
        await node.Revisions.PushAsync(new PushRequest([new ManifestFile("motd.yaml", Motd)], null, "tester"));
        await Eventually.Value(async () => (await node.Queries.StatusAsync("motd")).Manifests.FirstOrDefault(s => s.State == "ok"), "motd applied");
        return (node, events);
    }

    private static async Task<ApplyReport> NextDrift(ChannelReader<MeshEvent> events)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in events.ReadAllAsync(timeout.Token))
            if (e is { Kind: "drift", Report: { } r }) return r;
        throw new InvalidOperationException("event stream ended");
    }

    [Fact]
    public async Task A_manual_edit_of_a_managed_file_is_noticed_and_repaired_as_drift()
    {
        var (node, events) = await Applied(Settings("10m", watch: true));
        var motd = _mesh.RootOf(node, "/etc/motd");

        File.WriteAllText(motd, "hand edited\n");

        var drift = await NextDrift(events);
        Assert.Equal("motd", drift.Manifest);
        Assert.True(drift.Drift);
        Assert.Contains(drift.Resources, r => r.Id == "motd" && r.Action == ResourceAction.Changed);
        Assert.Equal("managed\n", File.ReadAllText(motd));
        var status = (await node.Queries.StatusAsync("motd")).Manifests.Single();
        Assert.True(status.Report!.Drift);
    }

    [Fact]
    public async Task The_interval_re_check_repairs_drift_without_a_watcher()
    {
        var (node, events) = await Applied(Settings("1s", watch: false));
        var motd = _mesh.RootOf(node, "/etc/motd");

        File.SetUnixFileMode(motd, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var drift = await NextDrift(events);
        Assert.Contains(drift.Resources, r => r.Id == "motd" && r.Message == "mode 0600 -> 0644");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(motd));
    }

    [Fact]
    public async Task Converge_now_re_checks_on_demand()
    {
        var (node, events) = await Applied(Settings("10m", watch: false));
        var motd = _mesh.RootOf(node, "/etc/motd");
        File.Delete(motd);

        var accepted = await node.Fleet.ConvergeAsync(null);

        Assert.Equal("solo", Assert.Single(accepted).Node);
        var drift = await NextDrift(events);
        Assert.Contains(drift.Resources, r => r.Id == "motd" && r.Action == ResourceAction.Created);
        Assert.True(File.Exists(motd));
    }

    [Fact]
    public async Task Converge_names_an_unknown_node()
    {
        var (node, _) = await Applied(Settings("10m", watch: false));

        var e = await Assert.ThrowsAsync<Mesh.Node.Operations.NoSuchMemberException>(() => node.Fleet.ConvergeAsync("ghost"));
        Assert.Contains("ghost", e.Message);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        await _mesh.DisposeAsync();
    }
}
