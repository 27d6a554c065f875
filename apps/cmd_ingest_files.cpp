// PLACEHOLDER: commands of this module are registered here.
#include "commands.hpp"

namespace floodwarn::apps {

void AddIngestFileCommands(CLI::App& /*app*/, Commands& /*out*/) {}

}  // namespace floodwarn::apps
