using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Mesh.Protocol.Security;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>mesh certs ca</c> and <c>mesh certs node NAME</c>: make the fleet CA and node
/// certificates it signs, for mutual TLS between nodes. Works on files only; no node is asked.
/// Keys are written with mode 0600, and nothing that exists is overwritten without --force.
/// </summary>
public static partial class CertsCommand
{
    public const string AuthorityCertificate = "ca.crt";
    public const string AuthorityKey = "ca.key";

    /// <summary>What was written, for --json.</summary>
    public sealed record Issued(string Subject, string Issuer, string Fingerprint, DateTimeOffset NotBefore, DateTimeOffset NotAfter,
        string Certificate, string Key, string Authority, string[] Hosts);

    public static Command Create(CliRunner run)
    {
        var command = new Command("certs", "make certificates for TLS between nodes: a fleet CA, and node certificates it signs");
        command.Subcommands.Add(CreateAuthority(run));
        command.Subcommands.Add(CreateNode(run));
        return command;
    }

    private static Command CreateAuthority(CliRunner run)
    {
        var output = new Option<string>("--out") { HelpName = "dir", Description = $"directory to write {AuthorityCertificate} and {AuthorityKey} into (made if missing)", Required = true };
        // Dated by default, so that the CA of a rotation, or of another fleet, is told apart by name too.
        var name = new Option<string>("--name") { Description = "the CA's common name (default \"mesh fleet CA YYYY-MM-DD\", today)", DefaultValueFactory = _ => $"mesh fleet CA {DateTime.UtcNow:yyyy-MM-dd}" };
        var days = new Option<int>("--days") { Description = "validity in days (default 3650)", DefaultValueFactory = _ => (int)FleetCertificates.AuthorityValidity.TotalDays };
        var force = new Option<bool>("--force") { Description = "overwrite an existing CA (every node certificate it signed stops being accepted once nodes trust only the new one)" };
        var command = new Command("ca", "make a fleet CA: its certificate goes to every node (--tls-ca), its key stays off the fleet") { output, name, days, force };
        command.SetAction((parse, _) => run.Invoke(parse, ctx =>
        {
            var directory = Path.GetFullPath(parse.GetValue(output)!);
            var validity = Days(parse.GetValue(days));
            var commonName = parse.GetValue(name)!;
            if (commonName.Trim().Length == 0) throw new CliException(ExitCodes.Invalid, "--name: the CA needs a name");
            var certificatePath = Path.Combine(directory, AuthorityCertificate);
            var keyPath = Path.Combine(directory, AuthorityKey);

            using var authority = FleetCertificates.CreateAuthority(commonName, validity);
            WriteAll(directory, parse.GetValue(force),
                (certificatePath, FleetCertificates.CertificatePem(authority), PublicMode),
                (keyPath, FleetCertificates.PrivateKeyPem(authority), PrivateMode));

            var issued = Describe(authority, certificatePath, keyPath, certificatePath, []);
            if (ctx.Json) ctx.WriteJson(issued);
            else
            {
                ctx.Out.WriteLine($"fleet CA {issued.Subject}, valid until {issued.NotAfter:yyyy-MM-dd}, SHA-256 {issued.Fingerprint}");
                ctx.Out.WriteLine($"  {certificatePath}  the CA certificate: copy it to every node (--tls-ca, mesh.tls.ca)");
                ctx.Out.WriteLine($"  {keyPath}  its private key (mode 0600): it signs node certificates; keep it off the fleet, and backed up");
                ctx.Out.WriteLine($"next, one certificate per node: mesh certs node NAME --ca {directory} --out DIR [--host ADDRESS]");
            }
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command CreateNode(CliRunner run)
    {
        var nodeName = new Argument<string>("name") { Description = "the node's name (its --name); the certificate's common name and file names" };
        var authorityDir = new Option<string>("--ca") { HelpName = "dir", Description = $"directory holding the fleet CA ({AuthorityCertificate}, {AuthorityKey}) made by mesh certs ca", Required = true };
        var output = new Option<string>("--out") { HelpName = "dir", Description = "directory to write NAME.crt and NAME.key into (made if missing)", Required = true };
        var hosts = new Option<string[]>("--host") { Description = "an IP address or DNS name the node is reached at, recorded in the certificate (repeatable)" };
        var days = new Option<int>("--days") { Description = "validity in days (default 730; never beyond the CA's)", DefaultValueFactory = _ => (int)FleetCertificates.NodeValidity.TotalDays };
        var force = new Option<bool>("--force") { Description = "overwrite an existing certificate and key of that name" };
        var command = new Command("node", "make a node certificate signed by the fleet CA") { nodeName, authorityDir, output, hosts, days, force };
        command.SetAction((parse, _) => run.Invoke(parse, ctx =>
        {
            var name = parse.GetValue(nodeName)!;
            if (!FileName().IsMatch(name))
                throw new CliException(ExitCodes.Invalid, $"'{name}': a node name for a certificate is letters, digits, '.', '_' and '-' (it names the files)");
            var validity = Days(parse.GetValue(days));
            var hostList = parse.GetValue(hosts) ?? [];
            foreach (var host in hostList)
                if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
                    throw new CliException(ExitCodes.Invalid, $"--host '{host}': not an IP address or a DNS name");

            var caDir = Path.GetFullPath(parse.GetValue(authorityDir)!);
            var authorityPath = Path.Combine(caDir, AuthorityCertificate);
            using var authority = LoadAuthority(authorityPath, Path.Combine(caDir, AuthorityKey));
            X509Certificate2 certificate;
            try
            {
                certificate = FleetCertificates.IssueNode(authority, name, hostList, validity);
            }
            catch (ArgumentException e)
            {
                throw new CliException(ExitCodes.Invalid, $"--ca {caDir}: {e.Message}");
            }

            using (certificate)
            {
                var directory = Path.GetFullPath(parse.GetValue(output)!);
                var certificatePath = Path.Combine(directory, name + ".crt");
                var keyPath = Path.Combine(directory, name + ".key");
                WriteAll(directory, parse.GetValue(force),
                    (certificatePath, FleetCertificates.CertificatePem(certificate), PublicMode),
                    (keyPath, FleetCertificates.PrivateKeyPem(certificate), PrivateMode));

                var issued = Describe(certificate, certificatePath, keyPath, authorityPath, hostList);
                if (ctx.Json) ctx.WriteJson(issued);
                else
                {
                    ctx.Out.WriteLine($"node certificate {issued.Subject} signed by {issued.Issuer}, valid until {issued.NotAfter:yyyy-MM-dd}");
                    ctx.Out.WriteLine($"  SHA-256 {issued.Fingerprint} (list it in mesh.tls.revoked should the key ever leak)");
                    ctx.Out.WriteLine($"  {certificatePath}");
                    ctx.Out.WriteLine($"  {keyPath}  private key, mode 0600: readable only by the node's user");
                    ctx.Out.WriteLine($"copy both to the node, with {authorityPath}, and start it with:");
                    ctx.Out.WriteLine($"  mesh-node --name {name} --tls-cert {certificatePath} --tls-key {keyPath} --tls-ca {authorityPath} --seed HOST:PORT ...");
                    ctx.Out.WriteLine("or in its cluster.hocon:");
                    ctx.Out.WriteLine($"  mesh.tls {{ certificate = \"{certificatePath}\", key = \"{keyPath}\", ca = \"{authorityPath}\" }}");
                }
            }
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private const UnixFileMode PublicMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,63}$")]
    private static partial Regex FileName();

    private static TimeSpan Days(int days) =>
        days > 0 ? TimeSpan.FromDays(days) : throw new CliException(ExitCodes.Invalid, $"--days {days}: must be at least 1");

    private static Issued Describe(X509Certificate2 certificate, string certificatePath, string keyPath, string authorityPath, string[] hosts) =>
        new(certificate.Subject, certificate.Issuer, FleetCertificates.Fingerprint(certificate),
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime()), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()),
            certificatePath, keyPath, authorityPath, hosts);

    private static X509Certificate2 LoadAuthority(string certificatePath, string keyPath)
    {
        foreach (var path in new[] { certificatePath, keyPath })
            if (!File.Exists(path))
                throw new CliException(ExitCodes.Invalid, $"--ca: {path}: no such file (make a fleet CA with: mesh certs ca --out DIR)");
        X509Certificate2 authority;
        try
        {
            authority = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new CliException(ExitCodes.Invalid, $"--ca: cannot read the CA from {certificatePath} and {keyPath}: {e.Message}");
        }
        var constraints = authority.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (constraints is not { CertificateAuthority: true })
        {
            authority.Dispose();
            throw new CliException(ExitCodes.Invalid, $"--ca: {certificatePath} is not a CA certificate (it may not sign others)");
        }
        return authority;
    }

    /// <summary>
    /// Refuses before writing anything when a file exists (unless forced). Each file goes to a
    /// temporary file created with its final mode (a key is never readable by others, not even
    /// for a moment) and is then renamed into place.
    /// </summary>
    private static void WriteAll(string directory, bool force, params (string Path, string Text, UnixFileMode Mode)[] files)
    {
        if (!force && files.FirstOrDefault(f => File.Exists(f.Path)) is { Path: not null } existing)
            throw new CliException(ExitCodes.Conflict, $"{existing.Path} already exists; nothing was written (--force replaces it)");
        try
        {
            if (!Directory.Exists(directory))
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            foreach (var (path, text, mode) in files) Mesh.Protocol.Files.AtomicFile.Write(path, text, mode, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Invalid, $"--out {directory}: cannot write: {e.Message}");
        }
    }
}
