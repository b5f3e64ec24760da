namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Three real mesh-node processes on loopback: <c>a</c> (no role), <c>b</c> (role web) and
/// <c>c</c> (label env=prod), b and c seeded by a. Shared by the tests of one class; every
/// test pushes manifests of its own names.
/// </summary>
public sealed class ThreeNodeMesh : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-");

    public string WorkDir => _nodes.WorkDir;
    public NodeProcess A { get; private set; } = null!;
    public NodeProcess B { get; private set; } = null!;
    public NodeProcess C { get; private set; } = null!;
    public IEnumerable<NodeProcess> All => [A, B, C];

    public async Task InitializeAsync()
    {
        A = await _nodes.StartAsync("a");
        // b and c join a side by side.
        var b = _nodes.StartAsync("b", seed: A.ClusterAddress, roles: ["web"]);
        var c = _nodes.StartAsync("c", seed: A.ClusterAddress, labels: ["env=prod"]);
        (B, C) = (await b, await c);
        await Until(async () => (await Task.WhenAll(All.Select(n => n.MembersAsync())))
            .All(members => members.Count(m => m.Status == "up") == 3), "every node sees three members up");
    }

    /// <summary>Writes a manifest file into the work directory and returns its path.</summary>
    public string Manifest(string fileName, string yaml) => _nodes.Write(fileName, yaml);

    public Task<ProcessResult> Cli(NodeProcess via, params string[] args) => via.Cli(args);

    public static async Task Until(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        for (var poll = 0; !await condition(); poll++)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(Pause(poll));
        }
    }

    /// <summary>
    /// Between two looks: 50 ms at first, growing to 250 ms. Many conditions run the CLI or ask
    /// every node; polled at 50 ms through a wait of seconds (a failure detector, a resolver)
    /// they took CPU from the nodes under test on a two-core machine.
    /// </summary>
    private static TimeSpan Pause(int poll) => TimeSpan.FromMilliseconds(Math.Min(250, 50 * Math.Pow(1.5, poll)));

    /// <summary>Polls <paramref name="probe"/> until it gives a value, and returns it.</summary>
    public static async Task<T> Until<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null) where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        for (var poll = 0; ; poll++)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(Pause(poll));
        }
    }

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
