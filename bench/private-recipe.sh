# Sourced by the bench scripts: a scratch directory $work (removed on exit) holding a copy
# of recipe $recipe and its lock, with the source trees beside it (sources: path:
# ../sources/… must stay inside the recipe's project). Sets work, r (the recipe) and lock.
work=$(mktemp -d /tmp/xcpbuild-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/recipes"
cp -r sources "$work/"
cp "recipes/$recipe.yaml" "recipes/$recipe.lock" "$work/recipes/"
r="$work/recipes/$recipe.yaml"
lock="$work/recipes/$recipe.lock"
