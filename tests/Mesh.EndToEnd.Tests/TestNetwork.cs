using System.Diagnostics;
using System.Net;

namespace Mesh.EndToEnd.Tests;

/// <summary>One host of a <see cref="TestNetwork"/>: a network namespace with its own address.</summary>
public sealed record TestHost(string Name, string Namespace, string Address, string Link);

/// <summary>
/// A network of throwaway hosts on this machine: one network namespace per host, each with its
/// own address on a private /24 picked at random (one no interface or route here uses), joined
/// by a bridge in the root namespace that has an address too, so the test process reaches
/// every host. A host is cut off by taking its link to the bridge down: its peers and the test
/// process no longer reach it, and it reaches nobody, but its own address still answers inside
/// its namespace. Disposing removes the namespaces (their ends of the links go with them) and
/// the bridge, whatever state the test left them in.
/// </summary>
public sealed class TestNetwork : IDisposable
{
    private readonly string _bridge;
    private readonly List<TestHost> _hosts = [];

    /// <summary>Why network namespaces cannot be made here, or null when they can (root and iproute2).</summary>
    public static string? Unavailable => LazyUnavailable.Value;

    private static readonly Lazy<string?> LazyUnavailable = new(Probe);

    public string Prefix { get; }
    public string BridgeAddress => $"{Prefix}.1";
    public IReadOnlyList<TestHost> Hosts => _hosts;
    public TestHost this[string name] => _hosts.Single(h => h.Name == name);

    private TestNetwork(string id, string prefix)
    {
        _bridge = $"mb{id}";
        Prefix = prefix;
    }

    public static TestNetwork Create(params string[] hostNames)
    {
        var id = Convert.ToHexString(Guid.NewGuid().ToByteArray())[..6].ToLowerInvariant();
        var network = new TestNetwork(id, FreePrefix());
        try
        {
            Ip("link", "add", network._bridge, "type", "bridge");
            Ip("addr", "add", $"{network.BridgeAddress}/24", "dev", network._bridge);
            Ip("link", "set", network._bridge, "up");
            foreach (var (name, i) in hostNames.Select((n, i) => (n, i)))
            {
                var host = new TestHost(name, $"mesh-{id}-{name}", $"{network.Prefix}.{i + 2}", $"mv{id}{i}");
                var inside = $"mp{id}{i}";
                Ip("netns", "add", host.Namespace);
                network._hosts.Add(host);
                Ip("link", "add", host.Link, "type", "veth", "peer", "name", inside, "netns", host.Namespace);
                Ip("link", "set", host.Link, "master", network._bridge);
                Ip("link", "set", host.Link, "up");
                Ip("-n", host.Namespace, "addr", "add", $"{host.Address}/24", "dev", inside);
                Ip("-n", host.Namespace, "link", "set", inside, "up");
                Ip("-n", host.Namespace, "link", "set", "lo", "up");
            }
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Takes the host's link to the bridge down: a partition with the host alone on its side.</summary>
    public void Cut(TestHost host) => Ip("link", "set", host.Link, "down");

    /// <summary>
    /// The host answers nothing, not even a refusal, as behind a firewall that drops: its
    /// packets back to the test's network go into a blackhole route, while its link stays up.
    /// </summary>
    public void Silence(TestHost host) => Ip("-n", host.Namespace, "route", "add", "blackhole", $"{BridgeAddress}/32");

    /// <summary>Brings the host's link to the bridge back up.</summary>
    public void Heal(TestHost host) => Ip("link", "set", host.Link, "up");

    public void Dispose()
    {
        foreach (var host in _hosts) TryIp("netns", "del", host.Namespace);
        TryIp("link", "del", _bridge);
    }

    /// <summary>A 10.x.y prefix that no address or route of this machine overlaps.</summary>
    private static string FreePrefix()
    {
        var taken = Run("ip", ["-4", "-o", "addr", "show"]).Output + "\n" + Run("ip", ["-4", "route", "show", "table", "all"]).Output;
        var used = taken.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(ParseCidr).OfType<(uint Address, int Length)>().Where(c => c.Length > 0).ToArray();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var candidate = (10u << 24) | ((uint)Random.Shared.Next(64, 255) << 16) | ((uint)Random.Shared.Next(0, 256) << 8);
            if (used.All(u => Masked(u.Address, Math.Min(u.Length, 24)) != Masked(candidate, Math.Min(u.Length, 24))))
                return $"10.{(candidate >> 16) & 0xFF}.{(candidate >> 8) & 0xFF}";
        }
        throw new InvalidOperationException("no free 10.x.y.0/24 for a test network");
    }

    private static uint Masked(uint address, int length) => length == 0 ? 0 : address & (uint.MaxValue << (32 - length));

    private static (uint, int)? ParseCidr(string token)
    {
        var slash = token.IndexOf('/');
        var length = 32;
        if (slash >= 0 && !int.TryParse(token[(slash + 1)..], out length)) return null;
        if (!IPAddress.TryParse(slash >= 0 ? token[..slash] : token, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return null;
        var b = ip.GetAddressBytes();
        return (((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3], length);
    }

    private static string? Probe()
    {
        if (!Environment.IsPrivilegedProcess) return "network namespaces need root, and this test does not run as root";
        try
        {
            Run("ip", ["-V"]);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "iproute2's ip is not installed (apt-get install iproute2; test.sh installs tests/apt-packages.txt when run as root)";
        }
        var probe = $"mesh-probe-{Guid.NewGuid().ToString("N")[..8]}";
        var made = Run("ip", ["netns", "add", probe]);
        if (made.ExitCode != 0) return $"cannot create a network namespace here: {made.Error.Trim()}";
        TryIp("netns", "del", probe);
        return null;
    }

    private static void Ip(params string[] args)
    {
        var result = Run("ip", args);
        if (result.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: exit {result.ExitCode}: {result.Error.Trim()}");
    }

    private static void TryIp(params string[] args) => Run("ip", args);

    private static (int ExitCode, string Output, string Error) Run(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }
}
