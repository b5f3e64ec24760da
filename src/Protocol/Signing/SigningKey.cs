using System.Security.Cryptography;
using Mesh.Protocol.Files;

namespace Mesh.Protocol.Signing;

/// <summary>
/// An operator's ECDSA P-256 key pair: the private half signs pushes (kept in a PKCS#8 PEM
/// file readable by its owner only), the public half goes into nodes' trust lists.
/// </summary>
public sealed class SigningKey : IDisposable
{
    private readonly ECDsa _key;

    private SigningKey(ECDsa key)
    {
        _key = key;
        Public = PublicKey.FromSpki(key.ExportSubjectPublicKeyInfo());
    }

    public PublicKey Public { get; }

    public static SigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Reads a private key file; a file others can read is refused, as ssh does.</summary>
    public static SigningKey Load(string path)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SigningException($"signing key {path}: {e.Message}");
        }
        var mode = File.GetUnixFileMode(path);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            throw new SigningException($"signing key {path} is readable by others (mode {Convert.ToString((int)mode, 8)}); chmod 600 it");
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new SigningException($"signing key {path} is not a PEM private key: {e.Message}");
        }
        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new SigningException($"signing key {path} is not a P-256 key");
        }
        return new SigningKey(key);
    }

    /// <summary>Writes the private key (0600, created so it is never briefly readable) and the public key beside it (<c>.pub</c>).</summary>
    public void Save(string path, bool overwrite)
    {
        if (!overwrite && (File.Exists(path) || File.Exists(path + ".pub")))
            throw new SigningException($"{path} already exists (use --force to replace it)");
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        AtomicFile.Write(path, _key.ExportPkcs8PrivateKeyPem(), AtomicFile.OwnerOnly, overwrite: true);
        File.WriteAllText(path + ".pub", Public.ToPem());
    }

    public byte[] Sign(byte[] statement) => _key.SignData(statement, HashAlgorithmName.SHA256);

    public void Dispose() => _key.Dispose();
}

/// <summary>A public signing key, known by its key id: the first 16 hex digits of the SHA-256 of its SubjectPublicKeyInfo.</summary>
public sealed record PublicKey(string Id, string Spki)
{
    public static PublicKey FromSpki(byte[] spki) =>
        new(Convert.ToHexStringLower(SHA256.HashData(spki))[..16], Convert.ToBase64String(spki));

    /// <summary>A key as written in a trust list: PEM text, a path to a PEM file, or the base64 SubjectPublicKeyInfo.</summary>
    public static PublicKey Parse(string text, string where)
    {
        text = text.Trim();
        if (!text.StartsWith("-----", StringComparison.Ordinal) && !IsBase64(text))
        {
            try
            {
                text = File.ReadAllText(text).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new SigningException($"{where}: neither a public key nor a readable key file: {e.Message}");
            }
        }
        using var key = ECDsa.Create();
        try
        {
            if (text.StartsWith("-----", StringComparison.Ordinal)) key.ImportFromPem(text);
            else key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(text), out _);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or FormatException)
        {
            throw new SigningException($"{where}: not an ECDSA public key: {e.Message}");
        }
        if (key.KeySize != 256) throw new SigningException($"{where}: not a P-256 key");
        return FromSpki(key.ExportSubjectPublicKeyInfo());
    }

    public string ToPem() => PemEncoding.WriteString("PUBLIC KEY", Convert.FromBase64String(Spki)) + "\n";

    public bool Verifies(byte[] statement, byte[] signature)
    {
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(Spki), out _);
        return key.VerifyData(statement, signature, HashAlgorithmName.SHA256);
    }

    private static bool IsBase64(string text) =>
        text.Length > 40 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=');
}

public sealed class SigningException(string message) : Exception(message);
