using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// Debian packages. What is installed is read from the dpkg database of the node's root
/// (<c>dpkg-query</c>); nothing else is needed for a dry run.
/// <para>
/// On a node whose root is <c>/</c>, apt installs and removes: it fetches from the host's apt
/// sources and brings dependencies along (and reads its package lists once more when a name or
/// version is not found in them). On a node with another root, Mesh must not touch the host's
/// packages, and apt cannot be pointed at a foreign database: there <c>dpkg --root</c> works on
/// the root's own database (<c>&lt;root&gt;/var/lib/dpkg</c>; maintainer scripts run chrooted in
/// the root), and it installs only from a <c>deb</c> file, without resolving dependencies.
/// </para>
/// A node without dpkg, or a root without a dpkg database, fails every package, never
/// reporting one as applied.
/// </summary>
public sealed class PackageProvider : IResourceProvider
{
    public const string NoDpkg = "package: dpkg is not available on this node";

    private const string AdminDir = "/var/lib/dpkg";

    private static readonly TimeSpan QueryTimeout = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan DpkgTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan AptTimeout = TimeSpan.FromMinutes(30);

    // Non-interactive, keeping changed configuration files, waiting for a running apt or dpkg instead of failing.
    private static readonly string[] AptOptions =
        ["-y", "-q", "-o", "DPkg::Lock::Timeout=300", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"];

    /// <summary>Whether this node has dpkg (dpkg-query on PATH).</summary>
    public PackageProvider() : this(HostTools.OnPath("dpkg-query")) { }

    public PackageProvider(bool dpkgAvailable) => DpkgAvailable = dpkgAvailable;

    public bool DpkgAvailable { get; }

    public string Kind => PackageResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (PackageResource)resource;
        if (!DpkgAvailable) return new ProviderResult(ResourceAction.Failed, NoDpkg);
        var host = RootedPath.IsHostRoot(context.Root);
        var database = host ? AdminDir : context.Resolve(AdminDir);
        if (!File.Exists(Path.Combine(database, "status")))
            return new ProviderResult(ResourceAction.Failed, host
                ? $"package: this node has no dpkg database ({AdminDir}/status)"
                : $"package: the root {context.Root} has no dpkg database ({AdminDir}/status under it)");

        var admin = host ? null : database;
        var current = Query(spec.Name, admin, cancel);

        if (spec.Ensure == Ensure.Absent)
        {
            if (current is null) return ProviderResult.Unchanged;
            if (apply)
            {
                if (host) Apt(["remove", .. AptOptions, spec.Name], cancel);
                else Dpkg(context, "--remove", spec.Name, cancel);
            }
            return new ProviderResult(ResourceAction.Removed, $"removed {spec.Name} {current.Version}");
        }

        var (file, debVersion, note) = spec.Deb is null ? (null, null, "") : ReadDeb(spec, context, apply, cancel);
        var wanted = debVersion ?? spec.Version;
        if (current is { Broken: false } && (wanted is null || SameVersion(current.Version, wanted, cancel))) return ProviderResult.Unchanged;

        if (!host && spec.Deb is null)
            throw new ResourceException(
                $"{spec.Name} can only be installed from the apt sources on a node whose root is /; under the root {context.Root} give deb: (a .deb file under the root)");

        if (apply)
        {
            if (host) Install(spec, file, cancel);
            else Dpkg(context, "--install", file!, cancel);
            var now = Query(spec.Name, admin, cancel);
            if (now is null or { Broken: true } || (wanted is not null && !SameVersion(now.Version, wanted, cancel)))
                throw new ResourceException($"{spec.Name}: the installer succeeded but dpkg shows {(now is null ? "it not installed" : $"{now.Version} {now.State}")}");
            wanted = now.Version;
        }

        var version = wanted is null ? "" : " " + wanted;
        var from = spec.Deb is null ? "" : $" from {spec.Deb}";
        return current switch
        {
            null => new ProviderResult(ResourceAction.Created, $"installed {spec.Name}{version}{from}{note}"),
            { Broken: true } => new ProviderResult(ResourceAction.Changed, $"{spec.Name} was {current.State}: reinstalled{version}{from}{note}"),
            _ => new ProviderResult(ResourceAction.Changed, $"{spec.Name} {current.Version} ->{version}{from}{note}"),
        };
    }

    /// <summary>What dpkg knows of an installed package: its version and state.</summary>
    private sealed record Installed(string Version, string State)
    {
        /// <summary>Unpacked but not (completely) configured, or half removed: an earlier run failed half-way.</summary>
        public bool Broken => State is not ("installed" or "triggers-pending" or "triggers-awaited");
    }

    /// <summary>The package as the database shows it; null when it is not installed (config files left behind count as not installed).</summary>
    private static Installed? Query(string name, string? adminDir, CancellationToken cancel)
    {
        string[] args = ["-W", "-f=${Status}\t${Version}\n", name];
        var result = HostTools.Run("dpkg-query", adminDir is null ? args : [$"--admindir={adminDir}", .. args], QueryTimeout, cancel);
        if (result.ExitCode == 1 && result.Error.Contains("no packages found", StringComparison.Ordinal)) return null;
        result.OrFail();
        // One line per architecture the package is known for: "install ok installed\t1.0-1".
        var known = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .Where(f => f.Length == 2)
            .Select(f => new Installed(f[1], f[0].Split(' ').Last()))
            .Where(p => p.State is not ("not-installed" or "config-files"))
            .ToArray();
        return known.FirstOrDefault(p => !p.Broken) ?? known.FirstOrDefault();
    }

    /// <summary>
    /// The host path of the resource's .deb and the version it holds. The file must hold the
    /// package the resource names, and the pinned version when one is given. In a plan a file
    /// that is not there yet (an earlier resource may put it there) is only noted.
    /// </summary>
    private static (string? File, string? Version, string Note) ReadDeb(PackageResource spec, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var file = context.Resolve(spec.Deb!);
        if (!File.Exists(file))
        {
            if (apply) throw new ResourceException($"{spec.Deb} does not exist (declare it and require it)");
            return (file, spec.Version, $" ({spec.Deb} does not exist yet)");
        }
        var fields = HostTools.Run("dpkg-deb", ["--field", file, "Package", "Version"], QueryTimeout, cancel).OrFail().Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 2))
            .Where(f => f.Length == 2)
            .ToDictionary(f => f[0].Trim(), f => f[1].Trim(), StringComparer.Ordinal);
        var package = fields.GetValueOrDefault("Package", "");
        var version = fields.GetValueOrDefault("Version", "");
        if (package != spec.Name.Split(':')[0])
            throw new ResourceException($"{spec.Deb} holds the package '{package}', not {spec.Name}");
        if (spec.Version is not null && !SameVersion(version, spec.Version, cancel))
            throw new ResourceException($"{spec.Deb} holds {spec.Name} {version}, not the pinned version {spec.Version}");
        return (file, version, "");
    }

    /// <summary>Versions compared as dpkg does, so 1.0 and 0:1.0 are the same.</summary>
    private static bool SameVersion(string a, string b, CancellationToken cancel) =>
        a == b || HostTools.Run("dpkg", ["--compare-versions", a, "eq", b], QueryTimeout, cancel).Succeeded;

    /// <summary>
    /// apt-get install of the name (at the pinned version, which may be a downgrade) or of the
    /// .deb file. When apt's lists do not know the package or version, they are refreshed once.
    /// </summary>
    private static void Install(PackageResource spec, string? file, CancellationToken cancel)
    {
        string[] install = ["install", .. AptOptions, "--no-install-recommends", "--allow-downgrades",
            file ?? (spec.Version is null ? spec.Name : $"{spec.Name}={spec.Version}")];
        var result = Apt(install, cancel, failOnError: false);
        if (!result.Succeeded && file is null && NotInLists(result.Text))
        {
            Apt(["update", "-q"], cancel);
            result = Apt(install, cancel, failOnError: false);
        }
        result.OrFail();
    }

    private static bool NotInLists(string text) =>
        text.Contains("Unable to locate package", StringComparison.Ordinal)
        || text.Contains("has no installation candidate", StringComparison.Ordinal)
        || (text.Contains("Version '", StringComparison.Ordinal) && text.Contains("was not found", StringComparison.Ordinal));

    // env sets apt's front end for this one command, so no maintainer script ever waits for an answer.
    private static ToolOutput Apt(string[] args, CancellationToken cancel, bool failOnError = true)
    {
        var result = HostTools.Run("env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", .. args], AptTimeout, cancel);
        return failOnError ? result.OrFail() : result;
    }

    /// <summary>
    /// dpkg on the root's own database. Its log goes to the root's <c>/var/log/dpkg.log</c> when
    /// the root has a <c>/var/log</c>, and nowhere otherwise: never to the host's log.
    /// </summary>
    private static void Dpkg(ApplyContext context, string action, string target, CancellationToken cancel)
    {
        var logDir = context.Resolve("/var/log");
        var log = Directory.Exists(logDir) ? Path.Combine(logDir, "dpkg.log") : "/dev/null";
        HostTools.Run("dpkg", [$"--root={Path.GetFullPath(context.Root)}", $"--log={log}", "--force-confdef", "--force-confold", action, target], DpkgTimeout, cancel)
            .OrFail();
    }
}
