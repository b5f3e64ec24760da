using Mesh.Protocol.Api;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// One manifest file made ready once, for every step that needs it: parsed and validated, its
/// canonical bytes and their hash (the content address a revision names and a signature
/// covers), and the files its <c>source</c> fields attach, by hash. The CLI (naming parents,
/// signing), the node (storing a push, a dry run) and <c>mesh-node apply</c> all start here,
/// so they cannot disagree about what a file means.
/// </summary>
public sealed record PreparedManifest(string File, Manifest Manifest, byte[] Bytes, string Hash, IReadOnlyDictionary<string, byte[]> Attachments)
{
    public string Name => Manifest.Name;

    /// <summary>Parses one file, resolving each <c>source</c> to the hash of the attached file.</summary>
    /// <param name="plaintextSecrets">Accept <c>!secret</c> values: only before sealing, or on the host that applies them (<see cref="ManifestParser.Parse"/>).</param>
    /// <exception cref="ManifestException">the file does not parse or validate; every error is listed.</exception>
    public static PreparedManifest Prepare(ManifestFile file, bool plaintextSecrets = false)
    {
        var attached = (file.Attachments ?? []).ToDictionary(a => a.Key, a => (Hash: CanonicalForm.Hash(a.Value), Bytes: a.Value), StringComparer.Ordinal);
        var manifest = ManifestParser.Parse(file.Text, file.File, name => attached.TryGetValue(name, out var a) ? a.Hash : null, plaintextSecrets);
        var bytes = CanonicalForm.ToBytes(manifest);
        var attachments = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (hash, content) in attached.Values) attachments[hash] = content;
        return new PreparedManifest(file.File, manifest, bytes, CanonicalForm.Hash(bytes), attachments);
    }

    /// <summary>
    /// Prepares every file of one change. One bad file refuses the whole change, with the
    /// errors of every file; a manifest name defined in two files is an error; so is no file.
    /// </summary>
    /// <exception cref="ManifestException">with every error of every file.</exception>
    public static IReadOnlyList<PreparedManifest> PrepareAll(IEnumerable<ManifestFile> files, bool plaintextSecrets = false)
    {
        var errors = new List<ManifestError>();
        var prepared = new List<PreparedManifest>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            try
            {
                var one = Prepare(file, plaintextSecrets);
                if (names.TryGetValue(one.Name, out var other))
                    errors.Add(new ManifestError(file.File, 0, 0, "manifest", $"'{one.Name}' is also defined in {other}"));
                names[one.Name] = file.File;
                prepared.Add(one);
            }
            catch (ManifestException e)
            {
                errors.AddRange(e.Errors);
            }
        }
        if (errors.Count > 0) throw new ManifestException(errors);
        if (prepared.Count == 0) throw new ManifestException([new ManifestError("push", 0, 0, "", "no manifest given")]);
        return prepared;
    }

    /// <summary>
    /// Prepares what parses and leaves the rest out (no exception): for a client that only needs
    /// names and hashes and leaves the errors to the node, which names them all.
    /// </summary>
    public static IReadOnlyList<PreparedManifest> PrepareWhatParses(IEnumerable<ManifestFile> files)
    {
        var prepared = new List<PreparedManifest>();
        foreach (var file in files)
        {
            try
            {
                prepared.Add(Prepare(file));
            }
            catch (ManifestException)
            {
            }
        }
        return prepared;
    }
}
