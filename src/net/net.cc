// Anchor translation unit so stopgap_net always has at least one object file.
namespace stopgap::net {
int NetLibraryAnchor() { return 0; }
}  // namespace stopgap::net
