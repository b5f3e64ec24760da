using System.CommandLine;
using System.Runtime.InteropServices;
using Akka.Configuration;
using Mesh.Node;
using Mesh.Node.Configuration;
using Mesh.Node.Security;
using Mesh.Node.Service;

// Before the thread pool, remoting and the JIT's background threads start allocating.
Footprint.LimitArenas();

var configFile = new Option<string?>("--config") { Description = "cluster.hocon to use over the embedded defaults (default: ./cluster.hocon when present)" };
var name = new Option<string?>("--name") { Description = "node name (default: host name)" };
var host = new Option<string?>("--host") { Description = "address to bind the cluster port to (default 127.0.0.1)" };
var publicHost = new Option<string?>("--public-host") { Description = "address peers reach this node at, when it differs from --host" };
var port = new Option<int?>("--port") { Description = "cluster port (default 4710; 0 picks a free one)" };
var seeds = new Option<string[]>("--seed") { Description = "a member to join, HOST:PORT or akka.tcp://mesh@HOST:PORT (akka.ssl.tcp:// with TLS) (repeatable)" };
var roles = new Option<string[]>("--role") { Description = "a role of this node, matched by target.roles (repeatable)" };
var labels = new Option<string[]>("--label") { Description = "a label k=v of this node, matched by target.labels (repeatable)" };
var dataDir = new Option<string?>("--data-dir") { Description = "where the node keeps its state (default ./.mesh/<name>)" };
var root = new Option<string?>("--root") { Description = "directory manifest paths resolve under (default <data-dir>/root; / on a real host)" };
var api = new Option<string?>("--api") { Description = "control API HOST:PORT (default 127.0.0.1:4711)" };
var trust = new Option<string[]>("--trust") { Description = "a signer whose changes this node applies, NAME=KEY (KEY: base64 public key or a .pub file; repeatable; adds to mesh.trusted-keys)" };
var tlsCert = new Option<string?>("--tls-cert") { Description = "this node's certificate for TLS between nodes: PEM (key inside or in --tls-key) or PKCS#12 (.pfx)" };
var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert, when that file does not hold it" };
var tlsPasswordFile = new Option<string?>("--tls-password-file") { Description = "file holding the password of a PKCS#12 --tls-cert or an encrypted PEM key" };
var attach = new Option<string[]>("--attach") { Description = "attach to a core peer, HOST:PORT, instead of joining the cluster: this node is then an attached host, not a member (repeatable; docs/SCALING.md)" };
var serveAttached = new Option<bool?>("--serve-attached") { Description = "this member is a core peer: it serves attached hosts (mesh.attached.serve)" };
var tlsCa = new Option<string?>("--tls-ca") { Description = "PEM file of the fleet CA certificate(s); peers must present a certificate it signed" };

var command = new RootCommand("mesh-node: a member of a Mesh configuration cluster")
{
    configFile, name, host, publicHost, port, seeds, roles, labels, dataDir, root, api, trust,
    tlsCert, tlsKey, tlsPasswordFile, tlsCa, attach, serveAttached,
};

var applyFiles = new Argument<string[]>("file") { Description = "manifest files (YAML)", Arity = ArgumentArity.OneOrMore };
var applyRoot = new Option<string>("--root") { Description = "directory manifest paths resolve under (default /)", DefaultValueFactory = _ => "/" };
var applyData = new Option<string>("--data-dir") { Description = "where sources and backups are kept (default ./.mesh/local)", DefaultValueFactory = _ => Path.Combine(".mesh", "local") };
var applyDryRun = new Option<bool>("--dry-run") { Description = "show what would change; change nothing" };
var applyRepeat = new Option<int>("--repeat") { Description = "run the manifests this many times in one process (measures warm re-checks)", DefaultValueFactory = _ => 1 };
var apply = new Command("apply", "apply manifests to this host directly, without a cluster (like puppet apply)")
{
    applyFiles, applyRoot, applyData, applyDryRun, applyRepeat,
};
apply.SetAction(parse => LocalApply.Run(parse.GetValue(applyFiles)!, parse.GetValue(applyRoot)!, parse.GetValue(applyData)!,
    parse.GetValue(applyDryRun), parse.GetValue(applyRepeat), Console.Out));
command.Subcommands.Add(apply);

command.SetAction(async (parse, _) =>
{
    // Under journald every line carries its priority and no timestamp (Journal).
    var output = JournalWriter.For(Console.Out, Journal.Info);
    var error = JournalWriter.For(Console.Error, Journal.Warning);

    // The configuration as the flags and files say now: at start, and again at each reload (SIGHUP).
    Config Build()
    {
        var overrides = new Dictionary<string, object>();
        void Set(string key, object? value) { if (value is not null) overrides[key] = value; }
        Set("name", parse.GetValue(name));
        Set("host", parse.GetValue(host));
        Set("public-host", parse.GetValue(publicHost));
        Set("port", parse.GetValue(port));
        Set("data-dir", parse.GetValue(dataDir));
        Set("root", parse.GetValue(root));
        Set("api", parse.GetValue(api));
        Set("tls.certificate", parse.GetValue(tlsCert));
        Set("tls.key", parse.GetValue(tlsKey));
        Set("tls.password-file", parse.GetValue(tlsPasswordFile));
        Set("tls.ca", parse.GetValue(tlsCa));
        if (parse.GetValue(seeds) is { Length: > 0 } s) overrides["seeds"] = s;
        if (parse.GetValue(attach) is { Length: > 0 } a) overrides["attach"] = a;
        Set("attached.serve", parse.GetValue(serveAttached));
        if (parse.GetValue(roles) is { Length: > 0 } r) overrides["roles"] = r;
        if (parse.GetValue(labels) is { Length: > 0 } l) overrides["labels"] = ParseLabels(l);
        if (parse.GetValue(trust) is { Length: > 0 } t)
            foreach (var (signer, key) in ParsePairs(t, "--trust", "NAME=KEY")) overrides[$"trusted-keys.\"{signer}\""] = key;

        var built = NodeConfig.Override(NodeConfig.Load(parse.GetValue(configFile)), overrides);
        return Journal.Active ? Journal.AkkaConfig.WithFallback(built) : built;
    }

    Config config;
    try
    {
        config = Build();
    }
    catch (Exception e) when (e is ConfigurationException or ArgumentException or IOException or UnauthorizedAccessException)
    {
        error.WriteLine($"mesh-node: {e.Message}");
        return 2;
    }

    // An attached host: no membership, no control API, no reloads (docs/SCALING.md).
    if (config.GetStringList("mesh.attach").Count > 0)
    {
        using var hostNotify = SystemdNotify.FromEnvironment();
        using var hostFootprint = Footprint.Start();
        var detach = new TaskCompletionSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; detach.TrySetResult(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; detach.TrySetResult(); });
        // systemctl reload must not end it (SIGHUP's default): an attached host reloads nothing yet.
        Reloader.ListenForHangup();
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            output.WriteLine("mesh-node: reload ignored: an attached host takes its configuration at start; restart it to apply a change");
        });
        return await Mesh.Node.Attached.AttachedLifetime.RunAsync(config, detach.Task, output, error, hostNotify);
    }

    using var systemd = SystemdNotify.FromEnvironment();
    using var footprint = Footprint.Start();
    var lifetime = new NodeLifetime(config, output, error, Build, systemd);
    var stop = new TaskCompletionSource();
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
    // Off the signal thread: a reload reads files and must not hold up the next signal.
    // SIGHUP means "reload" to a daemon, also one started with SIGHUP ignored (nohup, some
    // supervisors): .NET leaves an inherited "ignore" in place, so that disposition is reset first.
    Reloader.ListenForHangup();
    using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; Task.Run(lifetime.Reload); });

    // A node the cluster removes starts again and rejoins (NodeLifetime); only a stop signal ends it.
    return await lifetime.RunAsync(stop.Task, (node, app) =>
    {
        var settings = node.Settings;
        output.WriteLine($"mesh-node {settings.Name}: cluster {node.Cluster.SelfAddress}, api {string.Join(" ", app.Urls)}, root {settings.Root}, data {settings.DataDir}");
        NodeTls.Announce(node, output, error);
        if (settings.Seeds.Length == 0) output.WriteLine($"mesh-node {settings.Name}: no seeds given, this node seeds its own mesh");
        if (settings.Trust.Enforced)
            output.WriteLine($"mesh-node {settings.Name}: applies only changes signed by: {string.Join(", ", settings.Trust.Keys.Select(k => $"{k.Name} ({k.Key.Id})"))}");
        else
            error.WriteLine($"mesh-node {settings.Name}: WARNING: no trusted signing keys (mesh.trusted-keys / --trust): this node accepts and applies UNSIGNED changes from anyone who can reach a control API of the mesh");
        // cluster.hocon turns the replicator's pruning off (docs/ARCHITECTURE.md, "Replicated data is never pruned").
        if (Akka.DistributedData.ReplicatorSettings.Create(node.System).PruningInterval != TimeSpan.Zero)
            error.WriteLine($"mesh-node {settings.Name}: WARNING: akka.cluster.distributed-data.pruning-interval is on: Akka can prune a member that is " +
                "still alive, and every later write of that member, acknowledged pushes included, then vanishes from every node; set it to 0s " +
                "(docs/OPERATIONS.md, Akka settings Mesh chooses)");
        if (settings.Tasks.Enabled)
            output.WriteLine($"mesh-node {settings.Name}: tasks enabled (mesh.tasks.enabled): runs tasks {(settings.Trust.Enforced
                ? $"signed by: {string.Join(", ", settings.Trust.Entries.Where(k => k.Allows.HasFlag(Mesh.Protocol.Signing.TrustPermission.Tasks)).Select(k => $"{k.Name} ({k.Key.Id})").DefaultIfEmpty("nobody (no key is trusted for tasks)"))}"
                : "from anyone (no trust list)")}");
    });
});

return await command.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

static Dictionary<string, string> ParseLabels(IEnumerable<string> pairs) => ParsePairs(pairs, "--label", "KEY=VALUE");

static Dictionary<string, string> ParsePairs(IEnumerable<string> pairs, string flag, string form)
{
    var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
    foreach (var pair in pairs)
    {
        var eq = pair.IndexOf('=');
        if (eq <= 0) throw new ArgumentException($"{flag} '{pair}': expected {form}");
        parsed[pair[..eq]] = pair[(eq + 1)..];
    }
    return parsed;
}
