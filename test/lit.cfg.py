# lit configuration for mimo's IR and tool tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "MIMO"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mimo_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "unit", "e2e"]
config.substitutions.append(("%mimo_src", config.mimo_src_root))
config.substitutions.append(("%examples", os.path.join(config.mimo_src_root, "examples")))
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["mimo-opt", "mimoc"],
                                   [config.mimo_tools_dir])
