# fish completion for mesh (commands, flags with descriptions, manifest and node names).
# Install: mesh completion fish > ~/.config/fish/completions/mesh.fish (the Debian package
# ships it in /usr/share/fish/vendor_completions.d).
# Every TAB asks `mesh __complete`; names come from the node the line names (--api,
# --token-file, else MESH_API): none, quickly, when it is down.

function __mesh_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l lines ($words[1] __complete -- $words[2..-1] "$current" 2>/dev/null)
    if test "$lines[1]" = :files
        __fish_complete_path "$current"
        return
    end
    # fish reads "candidate<TAB>description" as it comes.
    printf '%s\n' $lines
end

complete -c mesh -f -a '(__mesh_complete)'
