using System.Net;
using Akka.Configuration;
using Mesh.Protocol.Signing;

namespace Mesh.Node.Configuration;

/// <summary>
/// Everything a node is told at start, read once from the <c>mesh { }</c> section of
/// <c>cluster.hocon</c> after command-line flags were laid over it.
/// </summary>
public sealed record NodeSettings(
    string Name,
    string Host,
    string PublicHost,
    int Port,
    string[] Seeds,
    string[] Roles,
    IReadOnlyDictionary<string, string> Labels,
    string DataDir,
    string Root,
    IPEndPoint Api,
    bool Announce,
    int ChunkSize,
    TimeSpan FetchTimeout,
    TimeSpan FetchDeadline,
    long MaxBlobSize,
    int HoldFanOut,
    TimeSpan RecheckInterval,
    double RecheckJitter,
    bool WatchPaths,
    int Backups,
    int HistoryKeep,
    TrustList Trust,
    TimeSpan GcInterval,
    TimeSpan GcGrace,
    TlsSettings Tls,
    Audit.AuditRotation AuditRotation,
    FactsSettings Facts,
    TaskSettings Tasks,
    TimeSpan AckTimeout,
    TimeSpan StoreTimeout,
    ClockSettings Clock,
    AttachedSettings Attached)
{
    public const string ActorSystemName = "mesh";
    public const string PlainScheme = "akka.tcp";
    public const string TlsScheme = "akka.ssl.tcp";

    /// <exception cref="ConfigurationException">a value is missing, malformed or out of range; the message says which when it can.</exception>
    public static NodeSettings From(Config config)
    {
        try
        {
            return Read(config);
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            // Akka's HOCON reader throws what it meets (a null where a value should be, a list where
            // a section should be) without naming the key: a configuration error all the same.
            throw new ConfigurationException(
                $"the mesh configuration cannot be read ({e.GetType().Name}: {e.Message}): look in the --config file for an empty value or an unclosed bracket");
        }
    }

    private static NodeSettings Read(Config config)
    {
        var mesh = config.GetConfig("mesh") ?? throw new ConfigurationException("cluster.hocon has no 'mesh' section");
        var name = mesh.GetString("name", "");
        if (string.IsNullOrWhiteSpace(name)) name = Dns.GetHostName();
        var dataDir = mesh.GetString("data-dir", "");
        if (string.IsNullOrWhiteSpace(dataDir)) dataDir = Path.Combine(".mesh", name);
        dataDir = Path.GetFullPath(dataDir);
        var root = mesh.GetString("root", "");
        root = string.IsNullOrWhiteSpace(root) ? Path.Combine(dataDir, "root") : Path.GetFullPath(root);

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var labelConfig = mesh.GetConfig("labels");
        if (labelConfig is not null && !labelConfig.IsEmpty)
            foreach (var (k, v) in labelConfig.AsEnumerable())
                labels[k] = v.GetString();

        var chunk = (int)(mesh.GetByteSize("content.chunk-size") ?? 65536);
        if (chunk is < 1024 or > 120_000)
            throw new ConfigurationException($"mesh.content.chunk-size = {chunk}: must be between 1 KiB and 120 000 bytes (below the remoting frame size)");

        var tls = TlsSettings.From(mesh);
        return new NodeSettings(
            Name: name,
            Host: mesh.GetString("host", "127.0.0.1"),
            PublicHost: mesh.GetString("public-host", ""),
            Port: mesh.GetInt("port", 4710),
            Seeds: mesh.GetStringList("seeds").Select(s => SeedAddress(s, tls.Enabled)).ToArray(),
            Roles: mesh.GetStringList("roles").ToArray(),
            Labels: labels,
            DataDir: dataDir,
            Root: root,
            Api: ParseEndpoint(mesh.GetString("api", "127.0.0.1:4711"), "mesh.api"),
            Announce: mesh.GetBoolean("announce", true),
            ChunkSize: chunk,
            FetchTimeout: Positive(mesh.GetTimeSpan("content.fetch-timeout", TimeSpan.FromSeconds(5)), "mesh.content.fetch-timeout"),
            FetchDeadline: Positive(mesh.GetTimeSpan("content.fetch-deadline", TimeSpan.FromMinutes(5)), "mesh.content.fetch-deadline"),
            MaxBlobSize: mesh.GetByteSize("content.max-blob-size") ?? 256L * 1024 * 1024,
            HoldFanOut: AtLeastOne(mesh.GetInt("content.hold-fan-out", Content.ContentHolders.DefaultFanOut), "mesh.content.hold-fan-out"),
            RecheckInterval: Positive(mesh.GetTimeSpan("converge.interval", TimeSpan.FromMinutes(5)), "mesh.converge.interval"),
            RecheckJitter: Math.Clamp(mesh.GetDouble("converge.jitter", 0.1), 0, 0.5),
            WatchPaths: mesh.GetBoolean("converge.watch", true),
            Backups: Math.Max(0, mesh.GetInt("converge.backups", 5)),
            HistoryKeep: Math.Max(1, mesh.GetInt("history.keep", 50)),
            Trust: ReadTrust(mesh.GetConfig("trusted-keys")),
            GcInterval: Positive(mesh.GetTimeSpan("content.gc-interval", TimeSpan.FromHours(1)), "mesh.content.gc-interval"),
            GcGrace: mesh.GetTimeSpan("content.gc-grace", TimeSpan.FromHours(1)),
            Tls: tls,
            AuditRotation: new Audit.AuditRotation(
                MaxSize: Math.Max(1, mesh.GetByteSize("audit.max-size") ?? Audit.AuditRotation.Default.MaxSize),
                MaxAge: mesh.GetTimeSpan("audit.max-age", Audit.AuditRotation.Default.MaxAge),
                Keep: Math.Max(1, mesh.GetInt("audit.keep", Audit.AuditRotation.Default.Keep))),
            Facts: FactsSettings.From(mesh, dataDir),
            Tasks: TaskSettings.From(mesh),
            AckTimeout: Positive(mesh.GetTimeSpan("push.ack-timeout", TimeSpan.FromSeconds(20)), "mesh.push.ack-timeout"),
            StoreTimeout: Positive(mesh.GetTimeSpan("store.timeout", Replication.ReplicatedStore.DefaultTimeout), "mesh.store.timeout"),
            Clock: ClockSettings.From(mesh),
            Attached: AttachedSettings.From(mesh, tls.Enabled));
    }

    /// <summary>
    /// <c>mesh.trusted-keys { NAME = KEY }</c> (a key trusted for pushes), or
    /// <c>NAME { key = KEY, allow = [push, tasks] }</c>; each key PEM, base64 SubjectPublicKeyInfo, or a path to a .pub file.
    /// </summary>
    private static TrustList ReadTrust(Config? keys)
    {
        if (keys is null || keys.IsEmpty) return TrustList.Empty;
        var list = new List<(string, PublicKey, TrustPermission)>();
        foreach (var (name, value) in keys.AsEnumerable())
        {
            var where = $"mesh.trusted-keys.{name}";
            try
            {
                if (!value.IsObject())
                {
                    list.Add((name, PublicKey.Parse(value.GetString(), where), TrustPermission.Push));
                    continue;
                }
                var items = value.GetObject().Items;
                var key = items.TryGetValue("key", out var k) && !k.IsObject() && !k.IsArray() ? k.GetString() : "";
                if (string.IsNullOrWhiteSpace(key)) throw new ConfigurationException($"{where}.key: missing (the signer's public key)");
                var allows = (TrustPermission)0;
                var allow = items.TryGetValue("allow", out var a) ? (a.IsArray() ? a.GetArray().Select(v => v.GetString()).ToList() : [a.GetString()]) : ["push"];
                foreach (var permission in allow)
                    allows |= permission switch
                    {
                        "push" => TrustPermission.Push,
                        "tasks" => TrustPermission.Tasks,
                        _ => throw new ConfigurationException($"{where}.allow: '{permission}' is not a permission (push, tasks)"),
                    };
                if (allows == 0) throw new ConfigurationException($"{where}.allow is empty: give push, tasks, or both (or remove the entry)");
                foreach (var other in items.Keys.Where(x => x is not ("key" or "allow")))
                    throw new ConfigurationException($"{where}.{other}: unknown setting (a trusted key has key and allow)");
                list.Add((name, PublicKey.Parse(key, where + ".key"), allows));
            }
            catch (SigningException e)
            {
                throw new ConfigurationException(e.Message);
            }
        }
        return new TrustList(list);
    }

    private static int AtLeastOne(int value, string key) =>
        value >= 1 ? value : throw new ConfigurationException($"{key} must be at least 1, not {value}");

    private static TimeSpan Positive(TimeSpan value, string key) =>
        value > TimeSpan.Zero ? value : throw new ConfigurationException($"{key} must be positive");

    /// <summary>
    /// "host:port" becomes a full Akka address, <c>akka.ssl.tcp://</c> when this node speaks TLS;
    /// a full address is taken as it is, but must use the scheme this node speaks.
    /// </summary>
    public static string SeedAddress(string seed, bool tls = false, string flag = "--seed")
    {
        var scheme = tls ? TlsScheme : PlainScheme;
        if (seed.Contains("://", StringComparison.Ordinal))
        {
            if (!seed.StartsWith(scheme + "://", StringComparison.Ordinal))
                throw new ConfigurationException(tls
                    ? $"{flag} '{seed}': this node speaks TLS (mesh.tls), so its peers are {TlsScheme}://{ActorSystemName}@HOST:PORT (or give HOST:PORT)"
                    : $"{flag} '{seed}': this node speaks plain TCP (no mesh.tls), so its peers are {PlainScheme}://{ActorSystemName}@HOST:PORT (or give HOST:PORT)");
            return seed;
        }
        var endpoint = ParseHostPort(seed, flag);
        return $"{scheme}://{ActorSystemName}@{endpoint.Host}:{endpoint.Port}";
    }

    public static IPEndPoint ParseEndpoint(string text, string what)
    {
        var (host, port) = ParseHostPort(text, what);
        if (host == "localhost") return new IPEndPoint(IPAddress.Loopback, port);
        if (!IPAddress.TryParse(host, out var address))
            throw new ConfigurationException($"{what} = '{text}': the address must be an IP address (e.g. 127.0.0.1:4711)");
        return new IPEndPoint(address, port);
    }

    private static (string Host, int Port) ParseHostPort(string text, string what)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var port) || port is < 0 or > 65535)
            throw new ConfigurationException($"{what} = '{text}': expected HOST:PORT");
        return (text[..colon].Trim('[', ']'), port);
    }
}
